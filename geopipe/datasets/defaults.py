"""The defaults of the training datasets, declared once: :func:`geopipe.datasets.patches.build_patches`,
:func:`geopipe.datasets.windows.build_windows`, ``geopipe patches|windows`` and the Prefect flows
(``flows/datasets.py``, ``flows/pipelines.py``) all read them from here.

Light on purpose (no NumPy): the CLI reads it to build its parsers.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class PatchDefaults:
    size: int = 128  # patch side in grid points
    neg_ratio: float = 1.0  # negative patches per positive, per split
    pos_threshold: float = 0.05  # label fraction that makes a patch positive
    splits: str = "2017-01-01/2018-12-31:train,2019-01-01/2019-06-30:val,2019-07-01/2019-12-31:test"
    gap: str = "3D"  # minimum time between split blocks
    label_var: str = "mask"
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class WindowDefaults:
    var: str = "sym_h"
    history: int = 120  # history steps
    horizon: int = 60  # forecast steps
    stride: int = 10  # steps between issue times
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)  # share of storms in train, val, test
    gap: str = "1D"  # minimum time between split blocks
    quiet_ratio: float = 1.0  # quiet windows per storm window, per split
    seed: int = 0


PATCHES = PatchDefaults()
WINDOWS = WindowDefaults()
