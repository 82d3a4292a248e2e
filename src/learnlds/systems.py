"""Linear dynamical systems in controllable canonical form (SPEC sections 1 and 6).

Conventions (the one place they live):

* ``h_{t+1} = A h_t + B x_t``, ``y_t = C h_t + D x_t``, ``h_1 = 0``;
* ``A`` is the companion matrix with ones on the super-diagonal and last row
  ``(-a_n, ..., -a_1)``; ``B = e_n``; ``C = (c_1, ..., c_n)``; ``D = d``;
* ``G(z) = (c_1 + c_2 z + ... + c_n z^{n-1}) / p_a(z) + d`` with
  ``p_a(z) = z^n + a_1 z^{n-1} + ... + a_n``;
* as a filter in ``z^{-1}``: ``y = lfilter([0, c_n, ..., c_1], [1, a_1, ..., a_n], x) + d x``.

Multiple inputs/outputs use a common denominator: ``c`` has shape
``(n, n_outputs, n_inputs)`` (``c[k-1]`` is the matrix ``S_k``) and ``d`` has
shape ``(n_outputs, n_inputs)``. A SISO system keeps ``c`` of shape ``(n,)``
and a scalar ``d``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal

FORMAT_NAME = "learnlds.CanonicalSystem"
FORMAT_VERSION = 1


# --------------------------------------------------------------------------- checks
def as_real_array(value: Any, name: str, *, ndim: tuple[int, ...] | None = None) -> np.ndarray:
    """Return ``value`` as a finite float64 array or raise a ``ValueError`` naming ``name``."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ValueError(f"{name}: cannot be read as an array ({exc})") from exc
    if arr.dtype == object:
        raise ValueError(f"{name}: must be numeric, got objects of mixed type")
    if np.iscomplexobj(arr):
        if np.any(np.imag(arr) != 0):
            raise ValueError(f"{name}: must be real, got complex values")
        arr = np.real(arr)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name}: must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if ndim is not None and arr.ndim not in ndim:
        allowed = " or ".join(f"{k}-D" for k in ndim)
        raise ValueError(f"{name}: must be {allowed}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = "NaN" if np.any(np.isnan(arr)) else "inf"
        raise ValueError(f"{name}: contains {bad} values")
    return arr


def _check_rng(rng: Any) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def companion(a: np.ndarray) -> np.ndarray:
    """Companion matrix of ``p_a``: super-diagonal ones, last row ``(-a_n, ..., -a_1)``."""
    n = a.shape[0]
    A = np.eye(n, k=1)
    A[-1, :] = -a[::-1]
    return A


def markov_horizon(rho: float, order: int, tol: float = 1e-17) -> int:
    """Number of Markov parameters after which ``rho^k`` is below ``tol`` (with margin).

    A crude 50 % margin plus 200 covers the polynomial factor of repeated roots.
    Returns -1 when ``rho >= 1`` (the sum diverges).
    """
    if rho >= 1.0:
        return -1
    if rho == 0.0:
        return order + 2
    k = int(np.ceil(np.log(tol) / np.log(rho)))
    return max(order + 2, min(int(1.5 * k) + 200, 5_000_000))


def _controllability(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``[B, A B, ..., A^{n-1} B]`` by repeated multiplication."""
    cols = [B]
    for _ in range(A.shape[0] - 1):
        cols.append(A @ cols[-1])
    return np.hstack(cols)


def _horner(coef: np.ndarray, zinv: np.ndarray) -> np.ndarray:
    """``sum_k coef[k] zinv^k`` (ascending powers of ``z^{-1}``) by Horner's rule."""
    out = np.zeros(zinv.shape, dtype=complex)
    for ck in coef[::-1]:
        out = out * zinv + ck
    return out


# --------------------------------------------------------------------------- the class
@dataclass(frozen=True, eq=False, init=False)
class CanonicalSystem:
    """A stable or unstable LDS in controllable canonical form.

    Parameters
    ----------
    a : array (n,)
        Characteristic polynomial coefficients ``p_a(z) = z^n + a_1 z^{n-1} + ... + a_n``.
    c : array (n,) or (n, n_outputs, n_inputs)
        Numerator coefficients ``c_1..c_n`` (ascending powers of ``z``).
    d : float or array (n_outputs, n_inputs)
        Direct feed-through.
    """

    a: np.ndarray
    c: np.ndarray
    d: np.ndarray

    def __init__(self, a: Any, c: Any, d: Any = 0.0) -> None:
        a_arr = as_real_array(a, "a", ndim=(1,))
        if a_arr.shape[0] < 1:
            raise ValueError("a: the order must be at least 1 (got an empty coefficient vector)")
        n = a_arr.shape[0]
        c_arr = as_real_array(c, "c", ndim=(1, 3))
        if c_arr.shape[0] != n:
            raise ValueError(
                f"c: must have {n} rows to match a (order {n}), got shape {c_arr.shape}"
            )
        d_arr = as_real_array(d, "d", ndim=(0, 2))
        if c_arr.ndim == 1:
            if d_arr.ndim != 0:
                raise ValueError(f"d: a SISO system (c of shape ({n},)) needs a scalar d")
        else:
            if d_arr.ndim == 0:
                d_arr = np.full(c_arr.shape[1:], float(d_arr))
            if d_arr.shape != c_arr.shape[1:]:
                raise ValueError(
                    f"d: must have shape (n_outputs, n_inputs) = {c_arr.shape[1:]}, "
                    f"got {d_arr.shape}"
                )
        for name, arr in (("a", a_arr), ("c", c_arr), ("d", d_arr)):
            arr = arr.copy()
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    # ------------------------------------------------------------------ shape facts
    @property
    def order(self) -> int:
        """State dimension of the SISO canonical form (degree of ``p_a``)."""
        return int(self.a.shape[0])

    @property
    def is_siso(self) -> bool:
        return self.c.ndim == 1

    @property
    def n_inputs(self) -> int:
        return 1 if self.is_siso else int(self.c.shape[2])

    @property
    def n_outputs(self) -> int:
        return 1 if self.is_siso else int(self.c.shape[1])

    @property
    def n_states(self) -> int:
        """Dimension of the realisation returned by :meth:`to_state_space`."""
        return self.order * self.n_inputs

    # ------------------------------------------------------------------ matrices
    @property
    def A(self) -> np.ndarray:
        Ac = companion(self.a)
        return Ac if self.is_siso else np.kron(Ac, np.eye(self.n_inputs))

    @property
    def B(self) -> np.ndarray:
        e = np.zeros((self.order, 1))
        e[-1, 0] = 1.0
        return e if self.is_siso else np.kron(e, np.eye(self.n_inputs))

    @property
    def C(self) -> np.ndarray:
        if self.is_siso:
            return self.c[None, :].copy()
        return np.concatenate(list(self.c), axis=1)

    @property
    def D(self) -> np.ndarray:
        return np.atleast_2d(self.d).astype(float).copy()

    def to_state_space(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(A, B, C, D)`` as 2-D arrays (MIMO: ``A = companion(a) kron I``)."""
        return self.A, self.B, self.C, self.D

    def to_tf(self) -> tuple[np.ndarray, np.ndarray]:
        """``(num, den)`` in descending powers of ``z`` for ``scipy.signal`` (SISO).

        ``num`` includes ``d``: ``G(z) = num(z) / den(z)`` with ``den = [1, a_1, ..., a_n]``.
        """
        self._require_siso("to_tf")
        den = np.concatenate(([1.0], self.a))
        num = np.concatenate(([0.0], self.c[::-1])) + float(self.d) * den
        return num, den

    @property
    def filter_coefficients(self) -> tuple[np.ndarray, np.ndarray]:
        """``(b, den)`` of the strictly proper part in ``z^{-1}``: ``b = [0, c_n, ..., c_1]``."""
        den = np.concatenate(([1.0], self.a))
        if self.is_siso:
            return np.concatenate(([0.0], self.c[::-1])), den
        return np.concatenate((np.zeros((1,) + self.c.shape[1:]), self.c[::-1]), axis=0), den

    # ------------------------------------------------------------------ behaviour
    def simulate(
        self,
        x: Any,
        *,
        noise_std: float = 0.0,
        rng: Any = None,
    ) -> np.ndarray:
        """Output from zero state for input ``x``.

        SISO: ``x`` of shape ``(T,)`` or ``(N, T)``, same shape out. MIMO: ``x`` of
        shape ``(T, n_inputs)`` or ``(N, T, n_inputs)``, output ``(..., T, n_outputs)``.
        Gaussian output noise of standard deviation ``noise_std`` is added when > 0.
        """
        if self.is_siso:
            x_arr = as_real_array(x, "x", ndim=(1, 2))
            if x_arr.shape[-1] == 0:
                raise ValueError("x: the input sequence is empty")
            b, den = self.filter_coefficients
            y = signal.lfilter(b, den, x_arr, axis=-1) + float(self.d) * x_arr
        else:
            x_arr = as_real_array(x, "x", ndim=(2, 3))
            if x_arr.shape[-1] != self.n_inputs:
                raise ValueError(
                    f"x: last axis must hold the {self.n_inputs} inputs, got shape {x_arr.shape}"
                )
            if x_arr.shape[-2] == 0:
                raise ValueError("x: the input sequence is empty")
            b, den = self.filter_coefficients  # b: (n+1, ny, nu)
            s = signal.lfilter([1.0], den, x_arr, axis=-2)  # (..., T, nu)
            n = self.order
            T = x_arr.shape[-2]
            y = np.einsum("...ti,ji->...tj", x_arr, self.d)
            for k in range(1, n + 1):  # y_t += S_{n+1-k} s_{t-k}; loop over lags, not time
                if k >= T:
                    break
                y[..., k:, :] += np.einsum("...ti,ji->...tj", s[..., : T - k, :], b[k])
        if noise_std:
            if noise_std < 0 or not np.isfinite(noise_std):
                raise ValueError(f"noise_std: must be a finite number >= 0, got {noise_std}")
            y = y + _check_rng(rng).normal(scale=noise_std, size=y.shape)
        return y

    def markov(self, k: int) -> np.ndarray:
        """Markov parameters ``r_0 = d, r_j = C A^{j-1} B`` for ``j < k``.

        Shape ``(k,)`` for SISO and ``(k, n_outputs, n_inputs)`` for MIMO.
        """
        k = int(k)
        if k < 1:
            raise ValueError(f"k: must be >= 1, got {k}")
        b, den = self.filter_coefficients
        imp = np.zeros(k)
        imp[0] = 1.0
        h = signal.lfilter([1.0], den, imp)  # impulse response of 1 / q_a
        if self.is_siso:
            r = np.convolve(h, b)[:k]
            r[0] = float(self.d)
            return r
        r = np.zeros((k,) + self.c.shape[1:])
        for j in range(1, min(k, self.order + 1)):
            r[j:] += h[: k - j, None, None] * b[j]
        r[0] = self.d
        return r

    def frequency_response(self, w: Any) -> np.ndarray:
        """``G(e^{iw}) = C (e^{iw} I - A)^{-1} B + D`` for angular frequencies ``w`` (rad/sample).

        Numerator and denominator are evaluated in ``z^{-1}`` by Horner's rule, so memory
        stays O(len(w)) for any order (the idealized risk evaluates millions of points).
        """
        w_arr = as_real_array(w, "w")
        zinv = np.exp(-1j * w_arr)
        b, den = self.filter_coefficients
        den_z = _horner(den, zinv)
        if self.is_siso:
            return _horner(b, zinv) / den_z + float(self.d)
        zb = zinv[..., None, None]
        num = np.zeros(zinv.shape + b.shape[1:], dtype=complex)
        for coef in b[::-1]:  # loop over the n + 1 coefficients, not over frequencies
            num = num * zb + coef
        return num / den_z[..., None, None] + self.d

    def poles(self) -> np.ndarray:
        """Roots of ``p_a`` (eigenvalues of the SISO companion matrix)."""
        return np.roots(np.concatenate(([1.0], self.a)))

    def spectral_radius(self) -> float:
        return float(np.max(np.abs(self.poles())))

    def is_stable(self) -> bool:
        return self.spectral_radius() < 1.0

    def h2_norm(self) -> float:
        """``sqrt(||d||^2 + sum_{k>=1} ||r_k||^2)``; ``inf`` for an unstable system.

        Summed over Markov parameters up to the horizon where ``rho^k`` drops below
        1e-17, not from the Gramian: for clustered poles the companion-form Lyapunov
        solve loses ~1e-9 relative accuracy, the filter recursion ~1e-14.
        """
        if not self.is_stable():
            return float("inf")
        r = self.markov(markov_horizon(self.spectral_radius(), self.order))
        return float(np.sqrt(np.sum(r**2)))

    # ------------------------------------------------------------------ conversions
    @classmethod
    def from_state_space(
        cls, A: Any, B: Any, C: Any, D: Any = 0.0, *, rtol: float = 1e-9
    ) -> CanonicalSystem:
        """Canonical form of a controllable SISO ``(A, B, C, D)``.

        Uses ``T = W_cc W_c^{-1}`` where ``W_c`` is the controllability matrix of the
        given system and ``W_cc`` that of the canonical one. Raises ``ValueError`` for
        an uncontrollable (or numerically nearly uncontrollable) system.
        """
        A = as_real_array(A, "A", ndim=(2,))
        n = A.shape[0]
        if n < 1 or A.shape != (n, n):
            raise ValueError(f"A: must be square and non-empty, got shape {A.shape}")
        B = as_real_array(B, "B").reshape(-1, 1) if np.ndim(B) == 1 else as_real_array(B, "B")
        if B.shape != (n, 1):
            raise ValueError(
                f"B: must have shape ({n}, 1) for a single-input system, got {B.shape}"
            )
        C = as_real_array(C, "C").reshape(1, -1) if np.ndim(C) == 1 else as_real_array(C, "C")
        if C.shape != (1, n):
            raise ValueError(
                f"C: must have shape (1, {n}) for a single-output system, got {C.shape}"
            )
        D = as_real_array(D, "D")
        if D.size != 1:
            raise ValueError(f"D: must be a scalar for a SISO system, got shape {D.shape}")
        Wc = _controllability(A, B)
        sv = np.linalg.svd(Wc, compute_uv=False)
        if sv[-1] <= rtol * max(sv[0], np.finfo(float).tiny):
            raise ValueError(
                "system is not controllable: the controllability matrix has rank "
                f"{int(np.sum(sv > rtol * sv[0]))} < order {n}; reduce it to a minimal "
                "realisation first"
            )
        a = np.poly(A)[1:].real
        Wcc = _controllability(companion(a), np.eye(n)[:, -1:])
        # T = Wcc Wc^{-1} maps to the canonical form and c = C T^{-1} = (C Wc) Wcc^{-1}.
        # Solving with Wcc (never inverting Wc) keeps c accurate for ill-conditioned Wc.
        c = np.linalg.solve(Wcc.T, (C @ Wc).ravel())
        return cls(a, c, float(D.ravel()[0]))

    @classmethod
    def from_tf(cls, num: Any, den: Any) -> CanonicalSystem:
        """Canonical form of a proper SISO ``num(z) / den(z)`` (descending powers of ``z``)."""
        num = np.trim_zeros(as_real_array(num, "num", ndim=(1,)), "f")
        den = np.trim_zeros(as_real_array(den, "den", ndim=(1,)), "f")
        if den.size < 2:
            raise ValueError("den: must have degree >= 1")
        if num.size > den.size:
            raise ValueError("num: degree exceeds den's; the transfer function is not proper")
        num = np.concatenate((np.zeros(den.size - num.size), num)) / den[0]
        den = den / den[0]
        d = num[0]
        rest = num - d * den  # strictly proper remainder, leading entry 0
        return cls(den[1:], rest[1:][::-1], d)

    @classmethod
    def random_stable(
        cls,
        n: int,
        radius: float = 0.95,
        rng: Any = None,
        *,
        d: float = 0.0,
    ) -> CanonicalSystem:
        """Random system with conjugate-pair roots drawn uniformly in the disc of ``radius``.

        Odd ``n`` gets one real root in ``(-radius, radius)``; ``C ~ N(0, I)``.
        """
        n = int(n)
        if n < 1:
            raise ValueError(f"n: the order must be >= 1, got {n}")
        if not 0 < radius:
            raise ValueError(f"radius: must be > 0, got {radius}")
        gen = _check_rng(rng)
        m = n // 2
        rad = radius * np.sqrt(gen.uniform(size=m))
        ang = gen.uniform(0, np.pi, size=m)
        roots = rad * np.exp(1j * ang)
        all_roots = np.concatenate((roots, roots.conj()))
        if n % 2:
            all_roots = np.concatenate((all_roots, [gen.uniform(-radius, radius)]))
        a = np.poly(all_roots)[1:].real
        return cls(a, gen.normal(size=n), d)

    # ------------------------------------------------------------------ misc
    def with_params(self, a: Any = None, c: Any = None, d: Any = None) -> CanonicalSystem:
        """A copy with some coefficients replaced."""
        return CanonicalSystem(
            self.a if a is None else a, self.c if c is None else c, self.d if d is None else d
        )

    def __repr__(self) -> str:
        np_opts = {"precision": 4, "suppress_small": True}
        return (
            f"CanonicalSystem(a={np.array2string(self.a, **np_opts)}, "
            f"c={np.array2string(self.c, **np_opts)}, d={np.array2string(self.d, **np_opts)})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CanonicalSystem):
            return NotImplemented
        return (
            np.array_equal(self.a, other.a)
            and np.array_equal(self.c, other.c)
            and np.array_equal(self.d, other.d)
        )

    __hash__ = None  # type: ignore[assignment]

    def _require_siso(self, what: str) -> None:
        if not self.is_siso:
            raise ValueError(f"{what}: only defined for single-input single-output systems")

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (floats round-trip exactly through ``repr``)."""
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "a": self.a.tolist(),
            "c": self.c.tolist(),
            "d": self.d.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> CanonicalSystem:
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise ValueError(f"not a learnlds model: expected format '{FORMAT_NAME}'")
        version = data.get("version")
        if type(version) is not int or version != FORMAT_VERSION:
            raise ValueError(
                f"unsupported learnlds model version {version!r} "
                f"(this learnlds reads {FORMAT_VERSION})"
            )
        try:
            return cls(data["a"], data["c"], data["d"])
        except KeyError as exc:
            raise ValueError(f"corrupt learnlds model: missing field {exc}") from exc

    def save(self, path: str | Path, **metadata: Any) -> Path:
        """Write the model as versioned JSON; extra keyword metadata is stored alongside."""
        path = Path(path)
        payload = self.to_dict()
        if metadata:
            payload["metadata"] = metadata
        path.write_text(json.dumps(payload, indent=2))
        return path


def load(path: str | Path) -> CanonicalSystem:
    """Read a model written by :meth:`CanonicalSystem.save`."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read model file ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a learnlds model (invalid JSON: {exc.msg})") from exc
    try:
        return CanonicalSystem.from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
