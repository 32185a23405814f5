"""Impact estimates: are civilians safer where and when police are present?

Pure Python on mart-shaped DataFrames: ``estimate_all(load_marts(con))`` returns one row per
estimate (deterrence, response, perception), each with its CI, N, method and plain sentences in
English and French. ``pipelines.impact.demo_frames`` builds the same frames from the demo
simulator, to check the estimators against the planted effects.
"""

from pipelines.impact.estimates import MARTS, estimate_all, estimate_scope, load_marts
from pipelines.impact.options import ImpactOptions
from pipelines.impact.result import COLUMNS

__all__ = ["COLUMNS", "MARTS", "ImpactOptions", "estimate_all", "estimate_scope", "load_marts"]
