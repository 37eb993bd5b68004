"""Thin Prefect flows that call geopipe; they hold no science."""

import logging as _logging

# geopipe's INFO records (what each step read, wrote, skipped and how long it took) go to the
# flow-run logs: Prefect forwards them when PREFECT_LOGGING_EXTRA_LOGGERS names "geopipe"
if _logging.getLogger("geopipe").level == _logging.NOTSET:
    _logging.getLogger("geopipe").setLevel(_logging.INFO)
