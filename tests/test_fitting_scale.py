"""The fitting shortcuts used at scale give the general methods' numbers (sparse designs, the
Schur/Woodbury CR3 for site fixed effects clustered by site)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.impact.fitting import cluster_cov, fe_design, fe_design_sparse, irls


def _panel(seed: int = 4, sites: int = 14, weeks: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "site": np.repeat([f"S{i:02d}" for i in range(sites)], weeks * 2),
        "week": np.tile(np.repeat([f"W{w}" for w in range(weeks)], 2), sites),
        "presence": np.tile([0.0, 1.0], sites * weeks),
    })
    frame["mission_id"] = np.where(frame["site"] < "S07", "A", "B")
    frame["week"] = frame["mission_id"] + "|" + frame["week"]
    rate = np.exp(rng.normal(0, 0.5, sites))[np.repeat(np.arange(sites), weeks * 2)]
    frame["incidents"] = rng.poisson(rate * np.where(frame["presence"] > 0, 0.7, 1.0) * 2)
    return frame


def test_sparse_design_is_the_dense_one() -> None:
    frame = _panel()
    dense = fe_design(frame, ["presence"], ["site", "week"], "mission_id")
    sparse = fe_design_sparse(frame, ["presence"], ["site", "week"], "mission_id")
    assert np.array_equal(sparse.toarray(), dense)
    assert dense.shape[1] == 1 + 14 + 2 * 9 - 2  # a base week per mission dropped


def test_cr3_with_own_cluster_effects_equals_the_direct_jackknife() -> None:
    frame = _panel()
    x = fe_design_sparse(frame, ["presence"], ["site", "week"], "mission_id")
    y = frame["incidents"].to_numpy(float)
    _, mu = irls(x, y)
    clusters = frame["site"]
    own = 1 + np.arange(clusters.nunique())
    fast = cluster_cov(x, mu, y - mu, clusters, "CR3", 1.0, own_columns=own)
    direct = cluster_cov(x.toarray(), mu, y - mu, clusters, "CR3", 1.0)
    assert fast == pytest.approx(direct, rel=1e-7, abs=1e-12)
    # and it is the shortcut that gave them: no cluster fell back to the direct solve
    from pipelines.impact.fitting import _gram, _OwnEffects

    shortcut = _OwnEffects(_gram(x, mu), own)
    codes = pd.factorize(clusters, sort=True)[0]
    assert all(shortcut.delta(g, x[codes == g], mu[codes == g], np.zeros(x.shape[1]), 1e-10)
               is not None for g in range(len(own)))
