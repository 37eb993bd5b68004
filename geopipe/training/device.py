"""Where Keras trains: CPU or GPUs, the distribution strategy and the precision policy.

* ``cpu``: GPUs hidden; float32.  Several *logical* CPU devices (see
  ``tf.config.set_logical_device_configuration``) train data-parallel under
  MirroredStrategy, which is how the multi-device path is tested without GPUs.
* ``gpu``: every visible GPU; MirroredStrategy when there are two or more, the default
  strategy for one; mixed precision (``mixed_float16``) -- on GPUs only, since float16 is
  several times slower than float32 on CPUs.
* ``auto``: ``gpu`` when TensorFlow sees a GPU, else ``cpu``.
"""

from __future__ import annotations

import dataclasses
import logging

from geopipe.errors import ParameterError
from geopipe.training.params import DEVICES  # declared once there

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Device:
    """The chosen device: ``strategy`` to build models under, and what to record in provenance."""

    kind: str
    strategy: object
    devices: list[str]
    mixed_precision: bool

    @property
    def replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)

    def describe(self) -> dict:
        import tensorflow as tf

        return {"device": self.kind, "devices": self.devices, "replicas": self.replicas,
                "strategy": type(self.strategy).__name__, "mixed_precision": self.mixed_precision,
                "tensorflow": tf.__version__}


def _strategy(tf, names: list[str]):
    if len(names) > 1:
        return tf.distribute.MirroredStrategy(devices=names)
    return tf.distribute.get_strategy()  # one device: the default strategy


def configure(device: str = "auto") -> Device:
    """Pick the device, set the Keras precision policy, and return the strategy to train under."""
    import keras
    import tensorflow as tf

    if device not in DEVICES:
        raise ParameterError("device", f"must be one of {', '.join(DEVICES)}", device)
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise ParameterError("device", "TensorFlow sees no GPU on this machine (use cpu or auto)", device)
    if device == "gpu" or (device == "auto" and gpus):
        names = [d.name for d in tf.config.list_logical_devices("GPU")]
        keras.mixed_precision.set_global_policy("mixed_float16")
        return Device("gpu", _strategy(tf, names), names, True)
    keras.mixed_precision.set_global_policy("float32")
    strategy = None
    if gpus:
        try:  # hide GPUs; only possible before TensorFlow has initialised them
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError:
            log.info("GPUs already initialised; pinning training to the CPU instead")
            strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    names = [d.name for d in tf.config.list_logical_devices("CPU")]
    return Device("cpu", strategy or _strategy(tf, names), names, False)
