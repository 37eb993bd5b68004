"""Label-maker parameters: defaults from ``catalog/labels.yaml``, overridable per call.

Each parameter class is a frozen dataclass naming its catalog section; ``Cls.load(**over)``
reads the section and applies the overrides (``None`` means "keep the catalog's value").
The catalog is the one place defaults live, so a threshold is changed there, not in code.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from geopipe.errors import CatalogError


class Settings:
    #: the section of catalog/labels.yaml holding this class's defaults
    section: ClassVar[str] = ""

    @classmethod
    def load(cls, params: Any = None, **overrides):
        """The catalog's values, then ``params`` (an instance or a mapping), then ``overrides``."""
        from geopipe.catalog import catalog_dir, load

        if isinstance(params, cls) and not overrides:
            return params
        values = dict(load().settings.get("labels", {}).get(cls.section) or {})
        if isinstance(params, cls):
            values.update(dataclasses.asdict(params))
        elif params:
            values.update(params)
        values.update({k: v for k, v in overrides.items() if v is not None})
        names = {f.name for f in dataclasses.fields(cls)}
        where = f"{catalog_dir() / 'labels.yaml'}: section {cls.section!r}"
        unknown = sorted(set(values) - names)
        if unknown:
            raise CatalogError(f"{where}: unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(names))})")
        missing = sorted(names - set(values))
        if missing:
            raise CatalogError(f"{where}: missing setting(s) {', '.join(missing)}")
        return cls(**values)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
