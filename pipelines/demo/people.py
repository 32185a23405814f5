"""Synthetic personal data for the demo: reporter names, phone numbers and narratives.

Made up from first and last names common in each mission's country; the tests scan the
warehouse and every published file for them, so they must never appear there in clear.
"""

from __future__ import annotations

import numpy as np

FIRST_NAMES = {
    "fr": ["Jean-Baptiste", "Marie-Claire", "Thierry", "Odette", "Serge", "Blandine", "Rodrigue",
           "Clarisse", "Fidèle", "Joséphine", "Hervé", "Nadège", "Prosper", "Léontine"],
    "en": ["Deng", "Nyandeng", "Gatluak", "Achol", "Lual", "Nyakim", "Malual", "Abuk", "Chol",
           "Ayen", "Kuol", "Nyabol", "Makuei", "Adut"],
}
LAST_NAMES = {
    "fr": ["Ngaïkoura", "Yakété", "Dondra", "Gbazia", "Kossi-Mbaye", "Zoumalde", "Ndoumbé",
           "Feïgoudou", "Sérégaza", "Namkoïsse", "Wanzoua", "Poukoulé"],
    "en": ["Garang", "Machar", "Akol", "Deng Ajak", "Chuol", "Lony", "Makur", "Nhial", "Riek",
           "Majok", "Bol", "Tut"],
}
COUNTRY_CODES = {"MINUSCA": "+236 7{}", "UNMISS": "+211 9{}"}
CATEGORY_WORDS = {
    "fr": {"killing": "meurtre", "abduction": "enlèvement", "sgbv_crsv": "violences sexuelles",
           "robbery_looting": "vol et pillage", "intercommunal_clash":
           "affrontement intercommunautaire", "armed_group_attack": "attaque d'un groupe armé",
           "host_state_abuse": "abus par des agents de l'État", "public_disorder":
           "trouble à l'ordre public"},
    "en": {"killing": "killing", "abduction": "abduction", "sgbv_crsv": "sexual violence",
           "robbery_looting": "robbery and looting", "intercommunal_clash":
           "intercommunal clash", "armed_group_attack": "armed group attack",
           "host_state_abuse": "abuse by state agents", "public_disorder": "public disorder"},
}


def reporter_names(rng: np.random.Generator, language: str, count: int) -> np.ndarray:
    """Full names in the mission's language area."""
    first = rng.choice(FIRST_NAMES[language], count)
    last = rng.choice(LAST_NAMES[language], count)
    return np.array([f"{f} {la}" for f, la in zip(first, last, strict=True)], dtype=object)


def reporter_phones(rng: np.random.Generator, mission: str, count: int) -> np.ndarray:
    """Mobile numbers in the mission country's format, unique within a call."""
    pattern = COUNTRY_CODES.get(mission, "+000 {}")
    numbers = rng.choice(10_000_000, count, replace=False)
    return np.array([pattern.format(f"{n:07d}"[:1] + " " + f"{n:07d}"[1:4] + " "
                                    + f"{n:07d}"[4:]) for n in numbers], dtype=object)


def narrative(rng: np.random.Generator, language: str, category: str, site_name: str,
              victims: int) -> str:
    """A short free-text account of an incident, the kind that must stay restricted."""
    what = CATEGORY_WORDS[language][category]
    when = rng.choice(["matin", "soir", "nuit"] if language == "fr"
                      else ["morning", "evening", "night"])
    token = int(rng.integers(1000, 9999))
    if language == "fr":
        return (f"Témoin n°{token}: {what} signalé le {when} près de {site_name}, "
                f"{victims} victime(s). Le témoin demande l'anonymat.")
    return (f"Witness no. {token}: {what} reported in the {when} near {site_name}, "
            f"{victims} victim(s). The witness asks for anonymity.")
