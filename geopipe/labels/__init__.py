"""Labels: best-track region-of-interest masks, a cyclone detector, geomagnetic storms."""
