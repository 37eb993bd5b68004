"""The lower rungs of the model ladder: baselines and small scikit-learn models.

Every rung predicts from *raw* inputs (it holds the train normalisation itself):

* segmentation, ``x`` (sample, iy, ix, channel) -> probability (sample, iy, ix):
  ``zero`` (never the mask), ``climatology`` (train frequency of the mask at each patch
  pixel, or the train base rate on another grid size), ``threshold`` (one field above or
  below one value, both fitted on train), ``logreg`` (pixel-wise logistic regression on
  the channels), ``mlp`` (pixel-wise network with one hidden ReLU layer);
* forecast, ``x`` (sample, step, channel) -> forecasts (sample, lead) in the target's units:
  ``persistence`` (last observed value), ``ar`` (ridge regression of the change on the
  whole history window), ``mlp`` (one hidden ReLU layer, same inputs and target);
  ``burton`` lives in :mod:`geopipe.models.burton`.

scikit-learn fits them; only their coefficients are saved (``model.npz``, loaded with
``allow_pickle=False``), so loading a rung runs no stored code, like Keras safe mode.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from geopipe.models.norm import normalize


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


class Rung:
    """Base: ``arrays`` are what ``model.npz`` holds; ``predict`` maps raw x to outputs."""

    kind = ""
    task = ""

    def __init__(self, **arrays):
        self.arrays = {k: np.asarray(v) for k, v in arrays.items()}

    def __getattr__(self, name):
        try:
            return self.__dict__["arrays"][name]
        except KeyError:
            raise AttributeError(name) from None

    def save(self, model_dir) -> Path:
        path = Path(model_dir) / "model.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **self.arrays)
        return path

    @classmethod
    def load(cls, model_dir):
        with np.load(Path(model_dir) / "model.npz", allow_pickle=False) as f:
            return cls(**{k: f[k] for k in f.files})


# ----------------------------------------------------------------------------- segmentation


class ZeroMask(Rung):
    kind, task = "zero", "segmentation"

    def predict(self, x):
        return np.zeros(np.shape(x)[:-1], "float32")


class Climatology(Rung):
    """``freq`` (iy, ix) train frequency of the mask per patch pixel; ``base_rate`` overall."""

    kind, task = "climatology", "segmentation"

    @classmethod
    def fit(cls, mask_sum, n_samples):
        freq = np.asarray(mask_sum, "f8") / max(1, n_samples)
        return cls(freq=freq.astype("float32"), base_rate=np.float32(freq.mean()))

    def predict(self, x):
        shape = np.shape(x)[:-1]
        if tuple(shape[1:]) == self.freq.shape:
            return np.broadcast_to(self.freq, shape).astype("float32")
        return np.full(shape, self.base_rate, "float32")  # another grid: the base rate


class ThresholdRule(Rung):
    """Mask where ``sign * (x[..., channel] - value) >= 0``; fitted to maximise CSI on train pixels."""

    kind, task = "threshold", "segmentation"

    @classmethod
    def fit(cls, pixels, labels, quantiles=np.linspace(0.01, 0.99, 99)):
        """``pixels`` (n, channel) raw values, ``labels`` (n,) 0/1: search every channel, both senses."""
        y = np.asarray(labels) > 0
        best = (-1.0, 0, 0.0, 1.0)
        for c in range(pixels.shape[1]):
            v = pixels[:, c].astype("f8")
            ok = np.isfinite(v)
            pos, neg = np.sort(v[ok & y]), np.sort(v[ok & ~y])
            cand = np.unique(np.quantile(v[ok], quantiles)) if ok.any() else np.array([0.0])
            for sign in (1.0, -1.0):
                if sign > 0:  # x >= t
                    tp = len(pos) - np.searchsorted(pos, cand, "left")
                    fp = len(neg) - np.searchsorted(neg, cand, "left")
                else:  # x <= t
                    tp = np.searchsorted(pos, cand, "right")
                    fp = np.searchsorted(neg, cand, "right")
                csi = tp / np.maximum(1, len(pos) + fp)  # TP / (TP + FN + FP)
                i = int(np.argmax(csi))
                if csi[i] > best[0]:
                    best = (float(csi[i]), c, float(cand[i]), sign)
        _, channel, value, sign = best
        return cls(channel=np.int64(channel), value=np.float64(value), sign=np.float64(sign))

    def predict(self, x):
        v = np.asarray(x)[..., int(self.channel)]
        with np.errstate(invalid="ignore"):
            return (float(self.sign) * (v - float(self.value)) >= 0).astype("float32")


class PixelLogistic(Rung):
    """p = sigmoid(z . w + b) on the normalised channels z of each pixel."""

    kind, task = "logreg", "segmentation"

    @classmethod
    def fit(cls, pixels, labels, mean, std, seed=0):
        from sklearn.linear_model import LogisticRegression

        z = normalize(pixels, mean, std)
        model = LogisticRegression(max_iter=300, random_state=seed)
        _fit_sklearn(model, z, np.asarray(labels) > 0)
        return cls(w=model.coef_[0].astype("float32"), b=np.float32(model.intercept_[0]), mean=mean, std=std)

    def predict(self, x):
        return _sigmoid(normalize(x, self.mean, self.std) @ self.w + self.b).astype("float32")


def _fit_sklearn(model, x, y) -> bool:
    """Fit; True when the optimiser converged (scikit-learn only warns when it did not)."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x, y)
    return not any(issubclass(w.category, ConvergenceWarning) for w in caught)


def _mlp_forward(z, arrays):
    h = np.maximum(0.0, z @ arrays["w1"] + arrays["b1"])
    return h @ arrays["w2"] + arrays["b2"]


class PixelMLP(Rung):
    """p = sigmoid(relu(z W1 + b1) W2 + b2) per pixel; fitted by scikit-learn's MLPClassifier."""

    kind, task = "mlp", "segmentation"

    @classmethod
    def fit(cls, pixels, labels, mean, std, hidden=16, seed=0, max_iter=60):
        from sklearn.neural_network import MLPClassifier

        z = normalize(pixels, mean, std)
        model = MLPClassifier(hidden_layer_sizes=(hidden,), early_stopping=True, max_iter=max_iter, random_state=seed)
        converged = _fit_sklearn(model, z, (np.asarray(labels) > 0).astype(int))
        rung = cls(w1=model.coefs_[0], b1=model.intercepts_[0], w2=model.coefs_[1][:, 0],
                   b2=model.intercepts_[1][0], mean=mean, std=std)
        rung.history = {"loss": list(model.loss_curve_), "val_score": list(model.validation_scores_)}
        rung.converged = converged
        return rung

    def predict(self, x):
        return _sigmoid(_mlp_forward(normalize(x, self.mean, self.std), self.arrays)).astype("float32")


# ----------------------------------------------------------------------------- forecasts


def last_value(x, channel: int = 0) -> np.ndarray:
    """The last finite value of ``x[:, :, channel]`` in each history window (sample,); NaN if none."""
    v = np.asarray(x, "f8")[:, :, channel]
    ok = np.isfinite(v)
    idx = np.where(ok.any(axis=1), v.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1), 0)
    out = v[np.arange(len(v)), idx]
    return np.where(ok.any(axis=1), out, np.nan)


class Persistence(Rung):
    """Every lead forecasts the last observed target value."""

    kind, task = "persistence", "forecast"

    def predict(self, x):
        return np.repeat(last_value(x)[:, None], int(self.n_leads), axis=1).astype("float32")


class _Residual(Rung):
    """Forecast = last value + f(z) * std[0], where z is the normalised history, flattened."""

    @staticmethod
    def features(x, mean, std):
        z = normalize(x, mean, std)
        return z.reshape(len(z), -1)

    @staticmethod
    def change(x, y, std):
        return (np.asarray(y, "f8") - last_value(x)[:, None]) / float(std[0])

    def predict(self, x):
        last = np.nan_to_num(last_value(x), nan=float(self.mean[0]))
        delta = self.delta(self.features(x, self.mean, self.std))
        return (last[:, None] + delta * float(self.std[0])).astype("float32")


class LinearAR(_Residual):
    """Linear autoregression (ridge) of the change at each lead on the whole history window."""

    kind, task = "ar", "forecast"

    @classmethod
    def fit(cls, x, y, mean, std, alpha=1.0):
        from sklearn.linear_model import Ridge

        dy = cls.change(x, y, std)
        ok = np.isfinite(dy).all(axis=1)
        model = Ridge(alpha=alpha).fit(cls.features(x[ok], mean, std), dy[ok])
        return cls(coef=model.coef_.T, intercept=model.intercept_, mean=mean, std=std)

    def delta(self, f):
        return f @ self.coef + self.intercept


class LinearARX(LinearAR):
    """The same ridge autoregression on the index history plus the solar-wind driver channels."""

    kind, task = "arx", "forecast"


class WindowMLP(_Residual):
    """One hidden ReLU layer from the history window to the change at each lead (MLPRegressor)."""

    kind, task = "mlp", "forecast"

    @classmethod
    def fit(cls, x, y, mean, std, hidden=32, seed=0, max_iter=200):
        from sklearn.neural_network import MLPRegressor

        dy = cls.change(x, y, std)
        ok = np.isfinite(dy).all(axis=1)
        model = MLPRegressor(hidden_layer_sizes=(hidden,), early_stopping=True, max_iter=max_iter, random_state=seed)
        converged = _fit_sklearn(model, cls.features(x[ok], mean, std), dy[ok])
        rung = cls(w1=model.coefs_[0], b1=model.intercepts_[0], w2=model.coefs_[1], b2=model.intercepts_[1],
                   mean=mean, std=std)
        rung.history = {"loss": list(model.loss_curve_), "val_score": list(model.validation_scores_)}
        rung.converged = converged
        return rung

    def delta(self, f):
        return _mlp_forward(f, self.arrays)
