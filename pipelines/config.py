"""Settings: one typed model, loaded in one place from config/pocmon.yaml and the environment."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

PROJECT_ROOT = Path(os.environ.get("POCMON_HOME", Path(__file__).resolve().parents[1]))
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# The mission's own weekly and monthly returns, then the public datasets (UCDP GED events and
# UN peacekeeping personnel contributions), each one contract in pipelines/contracts/.
MISSION_SOURCES = ("patrols", "incidents", "trainings", "strength", "surveys")
PUBLIC_SOURCES = ("ged", "personnel")
SOURCES = MISSION_SOURCES + PUBLIC_SOURCES
# `pocmon run --full-refresh`: the job's dbt build rebuilds the incremental marts from scratch
DBT_FULL_REFRESH_ENV = "POCMON_DBT_FULL_REFRESH"
# the file types pocmon's readers read (pipelines/ingest/read.py; .json: UCDP GED as its API
# gives it); inbox.extensions picks those the inbox accepts
READABLE_TYPES = (".csv", ".xlsx", ".geojson", ".json")


class ConfigError(ValueError):
    """The configuration file is missing, not YAML, or has a setting of the wrong kind."""


def is_time_zone(name: str) -> bool:
    """A time zone of the IANA database (the schedule's, a mission's in missions.csv)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class _Settings(BaseModel):
    # a misspelt setting is an error, not a default taken in silence
    model_config = ConfigDict(extra="forbid")


class Paths(_Settings):
    inbox: Path
    warehouse: Path
    published: Path
    reference: Path
    key_file: Path
    demo_truth: Path


class Schedule(_Settings):
    cron: str = "0 6 * * 1"
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, cron: str) -> str:
        """Five fields, as Dagster's schedule reads them (its own check)."""
        from dagster._utils.schedules import is_valid_cron_string

        if not is_valid_cron_string(cron):
            raise ValueError("not a cron schedule: five fields, minute hour day-of-month "
                             "month day-of-week (0-6, Sunday 0), e.g. '0 6 * * 1' for "
                             "Mondays at 06:00")
        return cron

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, timezone: str) -> str:
        if not is_time_zone(timezone):
            raise ValueError("not a time zone of the IANA database, e.g. UTC, "
                             "Africa/Bangui, Africa/Juba")
        return timezone


class SensorSettings(_Settings):
    minimum_interval_seconds: int = 60


class InboxSettings(_Settings):
    extensions: list[str] = Field(default_factory=lambda: [".csv", ".xlsx", ".geojson"])
    max_file_mb: float = 50
    source_max_file_mb: dict[str, float] = Field(default_factory=dict)

    @field_validator("extensions")
    @classmethod
    def _readable(cls, extensions: list[str]) -> list[str]:
        """Lower case with the dot (``XLSX`` is ``.xlsx``); only types pocmon can read."""
        wanted = [f".{e.lower().lstrip('.')}" for e in extensions]
        unreadable = [e for e in wanted if e not in READABLE_TYPES]
        if unreadable:
            raise ValueError(f"pocmon cannot read {', '.join(unreadable)} files; it reads "
                             f"{', '.join(READABLE_TYPES)}")
        return wanted

    def max_file_mb_for(self, source: str) -> float:
        """The size limit of one source's files."""
        return self.source_max_file_mb.get(source, self.max_file_mb)


class Settings(_Settings):
    paths: Paths
    schedule: Schedule = Schedule()
    sensor: SensorSettings = SensorSettings()
    inbox: InboxSettings = InboxSettings()


_ENV_OVERRIDES = {
    "inbox": "POCMON_INBOX",
    "warehouse": "POCMON_WAREHOUSE",
    "published": "POCMON_PUBLISHED",
    "key_file": "POCMON_KEY_FILE",
    "demo_truth": "POCMON_DEMO_TRUTH",
}


def load_settings(config_file: Path | None = None) -> Settings:
    """Read the YAML configuration, apply environment overrides and make paths absolute."""
    config_file = config_file or Path(
        os.environ.get("POCMON_CONFIG", PROJECT_ROOT / "config" / "pocmon.yaml")
    )
    try:
        raw = yaml.load(config_file.read_text(encoding="utf-8"), _UniqueKeyLoader) or {}  # noqa: S506
    except OSError as exc:
        raise ConfigError(f"{config_file}: cannot read the configuration "
                          f"({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{config_file}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("paths", {}), dict):
        raise ConfigError(f"{config_file}: expected settings as `name: value` lines, with the "
                          "paths under `paths:` (see config/pocmon.yaml in the repository)")
    paths = dict(raw.get("paths", {}))
    for name, var in _ENV_OVERRIDES.items():
        if os.environ.get(var):
            paths[name] = os.environ[var]
    raw["paths"] = {
        name: (Path(value) if Path(value).is_absolute() else PROJECT_ROOT / value)
        for name, value in paths.items()
    }
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        raise ConfigError(f"{config_file}: {problems}") from exc


def _problem(error: dict) -> str:
    """One validation error of the settings, in words."""
    where = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        model: type[BaseModel] = Settings
        for part in error["loc"][:-1]:
            annotation = model.model_fields[str(part)].annotation
            model = annotation if isinstance(annotation, type) else model
        return f"{where}: not a setting pocmon knows (it knows {', '.join(model.model_fields)})"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" + ("" if error["type"] == "missing"
                                    else f" (it is {error['input']!r})")


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML would keep the last
    in silence: a second ``inbox:`` block replacing the first)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the setting {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (tests clear the cache after changing the environment)."""
    settings = load_settings()
    # dbt's profiles.yml reads the warehouse path from this variable: one path for both.
    os.environ["POCMON_WAREHOUSE"] = str(settings.paths.warehouse)
    # the impact models (dbt Python model, in dbt's process) fit many small matrices: threaded
    # BLAS only contends for the cores, up to 50x slower on 2 cores under load
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    return settings
