"""Run folders -> sample grids and a Markdown report (built from the files, never recomputed)."""
from genredact.report.grids import save_grid
from genredact.report.markdown import metrics_table, write_report

__all__ = ["save_grid", "metrics_table", "write_report"]
