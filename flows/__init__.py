"""Thin Prefect flows that call geopipe; they hold no science."""
