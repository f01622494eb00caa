"""Replica-symmetric free energy of one row of factored attention, derived with SymPy (docs/theories/potts.md).

The free energy (12) is written from symbols,

    Φ = −m m̂ + ½ V̂ q − ½ q̂ V + (ρ m̂² + q̂)/(2(λ + V̂)) − α Ψ(m, q, V),
    Ψ = E_{ω,u} Σ_y p_y(B u) M_y(ω, V),      (ω_k, u_k) ~ N(0, [[q, m], [m, ρ]]) i.i.d. over k = 1..r,
    M_y(ω, V) = G_y(z*_y, ω, V),  G_y(z, ω, V) = ‖z − ω‖²/(2V) + CE(y, B z),  z*_y = argmin_z G_y,

on range(Σ) (B = Q_r Λ_r^{1/2}, C×r; symbolic entries b_ck unless a numeric B is given).  The
entropic (ridge) term is closed form; the energetic term keeps the Gaussian expectation and the
proximal problem symbolic: z*_y(ω, V) are undefined functions, softmax and log-sum-exp are SymPy
functions with their exact derivatives (:class:`Softmax`, :class:`LogSumExp`).

The stationarity conditions ∂Φ/∂θ = 0 for θ ∈ {m, q, V, m̂, q̂, V̂} come from the generic helper
(:func:`statmech_attn.derivations._stationarity.derive`, Ψ opaque), and the derivatives of Ψ from three rules,
each applied by SymPy and verified where it is applied:

1. **Price's theorem** for Gaussian expectations: ∂Ψ/∂m = E[Σ_k ∂²F/∂ω_k∂u_k],
   ∂Ψ/∂q = ½ E[Σ_k ∂²F/∂ω_k²] (F the integrand, q and m the variance and covariance entries);
2. **the envelope theorem** for the Moreau envelope: in dM_y/dθ the coefficient of ∂z*/∂θ is the
   proximal stationarity ∂G_y/∂z (checked term by term), which vanishes at z*;
3. **the implicit-function theorem** for ∂z*/∂ω: differentiating ∂G_y/∂z(z*(ω), ω) = 0 gives
   ∂z*/∂ω = (∇²_z G_y)⁻¹/V, solved as a linear system.

The results, solved for the hats, are the energetic update (14) and, solved for (m, q, V), the
entropic update (13); :func:`check_against_theory` confirms they equal the theory's (14).  The C = 2
case reduces symbolically to the scalar ridge-logistic-regression equations (§7.8,
:func:`c2_reduction`), and the α → 0 and λ → ∞ leading orders (15)–(16) come out of the derived
equations by substitution and series expansion (:func:`alpha_to_zero`, :func:`large_ridge`).
:func:`numeric_integrands` lambdifies the derived integrands to JAX and
:func:`stationarity_residuals` evaluates all six derived conditions at a numeric solution.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import random
from typing import Any, Callable, Mapping

import sympy as sp

from . import _stationarity as st

__all__ = ["Softmax", "LogSumExp", "GaussE", "ReplicaDerivation", "derive_replica", "check_against_theory",
           "c2_reduction", "alpha_to_zero", "large_ridge", "numeric_integrands", "stationarity_residuals",
           "to_latex", "explicit"]


# ------------------------------------------------------------------------------------------------
# functions with exact derivatives


class LogSumExp(sp.Function):
    """ln Σ_c e^{t_c} of its arguments; ∂/∂t_j = softmax_j(t)."""

    @classmethod
    def eval(cls, *args):
        return None

    def fdiff(self, argindex=1):
        return Softmax(argindex - 1, *self.args)

    def _latex(self, printer, exp=None):
        txt = r"\operatorname{lse}\left(%s\right)" % ", ".join(printer._print(a) for a in self.args)
        return txt if exp is None else f"{txt}^{{{exp}}}"


class Softmax(sp.Function):
    """softmax_c(t) = e^{t_c}/Σ_d e^{t_d}: ``Softmax(c, t_0, …, t_{C−1})``; ∂/∂t_j = p_c(δ_cj − p_j)."""

    @classmethod
    def eval(cls, *args):
        return None

    def fdiff(self, argindex=1):
        if argindex == 1:
            return sp.S.Zero
        c, t = int(self.args[0]), self.args[1:]
        j = argindex - 2
        pc = Softmax(c, *t)
        return pc * ((1 if c == j else 0) - Softmax(j, *t))

    def _latex(self, printer, exp=None):
        txt = r"\operatorname{softmax}_{%s}\left(%s\right)" % (
            printer._print(self.args[0]), ", ".join(printer._print(a) for a in self.args[1:]))
        return txt if exp is None else f"{txt}^{{{exp}}}"


class GaussE(sp.Function):
    """E[·] over the Gaussian fields (ω, u) ~ N(0, [[q, m], [m, ρ]] ⊗ I_r) (display only)."""

    def _latex(self, printer, exp=None):
        txt = r"\mathbb{E}_{\omega,u}\left[%s\right]" % printer._print(self.args[0])
        return txt if exp is None else f"{txt}^{{{exp}}}"


def explicit(expr: Any) -> Any:
    """Replace Softmax and LogSumExp by their exp/log formulas."""
    expr = expr.replace(lambda e: isinstance(e, Softmax),
                        lambda e: sp.exp(e.args[1 + int(e.args[0])]) / sp.Add(*[sp.exp(t) for t in e.args[1:]]))
    return expr.replace(lambda e: isinstance(e, LogSumExp), lambda e: sp.log(sp.Add(*[sp.exp(t) for t in e.args])))


# ------------------------------------------------------------------------------------------------
# the derivation


@dataclasses.dataclass(frozen=True)
class ReplicaDerivation:
    """The derived replica-symmetric equations for C colours and rank r.

    Attributes:
        colours, rank: C and r = rank Σ.
        s: the scalar symbols (m, q, V, m_hat, q_hat, V_hat, alpha, lam, rho).
        B: the C×r basis of range(Σ) (symbols b_ck or numbers).
        omega, u: the Gaussian fields (r symbols each).
        z: plain symbols z_{y,k} standing for the proximal points z*_{y,k}(ω, V).
        free_energy: Φ with Ψ(m, q, V) an opaque function.
        conditions: the six :class:`statmech_attn.derivations._stationarity.Condition` (θ in the order of ``s``),
            with ∂Ψ/∂θ replaced by the derived expectations (:class:`GaussE`).
        psi_integrands: {"m", "q", "V"}: I_θ with ∂Ψ/∂θ = E[I_θ] (in ω, u, z, V, B).
        prox_gradient: ∂G_y/∂z_k at z = z_y (list over y of r expressions) — zero at the prox.
        hat_update: {"m_hat", "q_hat", "V_hat"}: the integrands of the energetic update (14),
            θ̂ = α E[integrand].
        entropic_update: {"m", "q", "V"}: (13) solved from the three hat conditions.
        checks: what was verified while deriving (envelope coefficients, implicit Jacobian).
    """

    colours: int
    rank: int
    s: Mapping[str, sp.Symbol]
    B: sp.ImmutableMatrix
    omega: tuple
    u: tuple
    z: tuple
    free_energy: Any
    conditions: tuple
    psi_integrands: Mapping[str, Any]
    prox_gradient: tuple
    hat_update: Mapping[str, Any]
    entropic_update: Mapping[str, Any]
    checks: Mapping[str, bool]


def _symbols() -> dict[str, sp.Symbol]:
    pos = dict(positive=True)
    return {"m": sp.Symbol("m", real=True), "q": sp.Symbol("q", **pos), "V": sp.Symbol("V", **pos),
            "m_hat": sp.Symbol(r"\hat{m}", real=True), "q_hat": sp.Symbol(r"\hat{q}", **pos),
            "V_hat": sp.Symbol(r"\hat{V}", **pos), "alpha": sp.Symbol(r"\alpha", **pos),
            "lam": sp.Symbol(r"\lambda", **pos), "rho": sp.Symbol(r"\rho", **pos)}


def _logits(B: sp.ImmutableMatrix, vec: Any) -> list:
    C, r = B.shape
    return [sp.Add(*[B[c, k] * vec[k] for k in range(r)]) for c in range(C)]


def _trace_inverse(A: sp.Matrix) -> Any:
    """tr A⁻¹ = tr adj(A) / det A (Berkowitz, no simplification: cheap for small symbolic A)."""
    return sp.trace(A.adjugate(method="berkowitz")) / A.det(method="berkowitz")


def _numeric_equal(a: Any, b: Any, symbols: set, trials: int = 4, tol: float = 1e-10) -> bool:
    """a ≡ b at random points (Softmax/LogSumExp written out), a check for expressions too large for simplify."""
    rng = random.Random(1)
    ea, eb = explicit(sp.sympify(a)), explicit(sp.sympify(b))
    syms = sorted((ea.free_symbols | eb.free_symbols), key=str)
    for _ in range(trials):
        vals = {x: sp.Float(rng.uniform(0.3, 1.7)) * (1 if rng.random() < 0.7 else -1) for x in syms}
        for x in syms:
            if x.is_positive:
                vals[x] = abs(vals[x])
        va, vb = complex(sp.N(ea.subs(vals), 30)), complex(sp.N(eb.subs(vals), 30))
        if abs(va - vb) > tol * (1 + abs(vb)):
            return False
    return True


@functools.lru_cache(maxsize=8)
def derive_replica(colours: int = 3, rank: int | None = None, basis: tuple | None = None) -> ReplicaDerivation:
    """Derive the saddle-point equations for C = ``colours`` (r = ``rank``, default C − 1: doubly centred U).

    ``basis``: an optional numeric B as nested tuples (C×r); default symbolic entries b_ck.
    """
    C = int(colours)
    if C < 2:
        from statmech_attn.errors import InputError

        raise InputError("colours", C, "must be >= 2")
    if basis is not None:
        B = sp.ImmutableMatrix(basis)
        r = B.shape[1]
    else:
        r = C - 1 if rank is None else int(rank)
        B = sp.ImmutableMatrix(C, r, lambda c, k: sp.Symbol(f"b_{{{c}{k + 1}}}", real=True))
    s = _symbols()
    V = s["V"]
    om = tuple(sp.Symbol(rf"\omega_{{{k + 1}}}", real=True) for k in range(r))
    uu = tuple(sp.Symbol(f"u_{{{k + 1}}}", real=True) for k in range(r))
    zs = tuple(tuple(sp.Symbol(f"z_{{{y}{k + 1}}}", real=True) for k in range(r)) for y in range(C))
    zf = tuple(tuple(sp.Function(f"z^*_{{{y}{k + 1}}}")(*om, V) for k in range(r)) for y in range(C))
    to_sym = {zf[y][k]: zs[y][k] for y in range(C) for k in range(r)}
    checks: dict[str, bool] = {}

    def G(y: int, z: Any) -> Any:
        """G_y(z, ω, V) = ‖z − ω‖²/(2V) + CE(y, Bz)."""
        t = _logits(B, z)
        return sp.Add(*[(z[k] - om[k]) ** 2 for k in range(r)]) / (2 * V) + LogSumExp(*t) - t[y]

    # proximal stationarity R_y = ∂G_y/∂z at z = z_y
    R = tuple(tuple(sp.diff(G(y, zs[y]), zs[y][k]) for k in range(r)) for y in range(C))

    # envelope theorem: dM_y/dθ with M_y = G_y(z*_y(ω, V), ω, V)
    dM_omega, dM_V, d2M_omega = [], [], []
    for y in range(C):
        M = G(y, zf[y])
        first = []
        for theta in list(om) + [V]:
            d = sp.expand(sp.diff(M, theta))
            ok = True
            for k in range(r):
                D = sp.Derivative(zf[y][k], theta)
                coeff = d.coeff(D)
                ok &= sp.expand(coeff.xreplace(to_sym) - R[y][k]) == 0
                d = sp.expand(d.xreplace({D: 0}))
            checks[f"envelope y={y} d/d{theta}"] = bool(ok)
            first.append(d)
        dM_omega.append(first[:r])
        dM_V.append(first[r])
        # implicit function theorem: ∂z*/∂ω = −(∂R/∂z)⁻¹ ∂R/∂ω
        Hz = sp.Matrix(r, r, lambda j, l: sp.diff(R[y][j], zs[y][l]))
        Rw = sp.Matrix(r, r, lambda j, k: sp.diff(R[y][j], om[k]))
        J = -(Hz.adjugate(method="berkowitz") * Rw) / Hz.det(method="berkowitz")
        second = []
        for k in range(r):
            d2 = sp.diff(first[k], om[k])
            d2 = d2.xreplace({sp.Derivative(zf[y][k], om[k]): J[k, k]})
            second.append(d2.xreplace(to_sym))
        d2M_omega.append(second)
        p = [Softmax(c, *_logits(B, zs[y])) for c in range(C)]
        D = sp.Matrix(C, C, lambda a, b: (p[a] if a == b else 0) - p[a] * p[b])
        A = sp.eye(r) + V * B.T * D * B
        checks[f"implicit Jacobian y={y} equals (I + V BᵀD(p)B)⁻¹"] = _numeric_equal(
            sp.Add(*[J[k, k] for k in range(r)]).xreplace(to_sym), _trace_inverse(A), set())

    # Price's theorem on F = Σ_y p_y(Bu) M_y(ω, V), M_y opaque with the derivatives above
    Mf = [sp.Function(f"M_{{{y}}}")(*om, V) for y in range(C)]
    F = sp.Add(*[Softmax(y, *_logits(B, uu)) * Mf[y] for y in range(C)])

    def resolve(expr: Any) -> Any:
        reps = {}
        for y in range(C):
            for k in range(r):
                reps[sp.Derivative(Mf[y], om[k])] = dM_omega[y][k]
                reps[sp.Derivative(Mf[y], (om[k], 2))] = d2M_omega[y][k]
            reps[sp.Derivative(Mf[y], V)] = dM_V[y]
        out = expr.xreplace(reps)
        if out.has(sp.Derivative):
            raise RuntimeError(f"unresolved derivative in {out}")  # a bug in the rules above, not user input
        return out.xreplace(to_sym)

    I_m = resolve(sp.Add(*[sp.diff(F, om[k], uu[k]) for k in range(r)]))
    I_q = resolve(sp.Rational(1, 2) * sp.Add(*[sp.diff(F, om[k], 2) for k in range(r)]))
    I_V = resolve(sp.diff(F, V))
    psi = {"m": I_m, "q": I_q, "V": I_V}

    # the free energy with Ψ opaque, and its six stationarity conditions (generic helper)
    Psi = sp.Function(r"\Psi")(s["m"], s["q"], V)
    Phi = (-s["m"] * s["m_hat"] + s["V_hat"] * s["q"] / 2 - s["q_hat"] * V / 2
           + (s["rho"] * s["m_hat"] ** 2 + s["q_hat"]) / (2 * (s["lam"] + s["V_hat"])) - s["alpha"] * Psi)
    params = [st.OrderParameter(s["m"], "overlap with the teacher, m = ŵ·w*/N", "m"),
              st.OrderParameter(s["q"], "squared norm, q = ‖ŵ‖²/N", "q"),
              st.OrderParameter(V, "response V", "V"),
              st.OrderParameter(s["m_hat"], "conjugate of m", "m_hat"),
              st.OrderParameter(s["q_hat"], "conjugate of q", "q_hat"),
              st.OrderParameter(s["V_hat"], "conjugate of V", "V_hat")]
    raw = st.derive(Phi, params, fixed_point=False, simplify=lambda e: e)
    sub = {sp.Derivative(Psi, s["m"]): GaussE(I_m), sp.Derivative(Psi, s["q"]): GaussE(I_q),
           sp.Derivative(Psi, V): GaussE(I_V)}
    conditions = tuple(dataclasses.replace(c, gradient=c.gradient.subs(sub), equation=c.equation.subs(sub))
                       for c in raw)

    # hats from ∂Φ/∂(m, q, V) = 0 (energetic update) and (m, q, V) from ∂Φ/∂(hats) = 0 (entropic update)
    E = {k: sp.Symbol(f"E_{k}") for k in ("m", "q", "V")}
    plain = [c.equation.subs({sp.Derivative(Psi, s["m"]): E["m"], sp.Derivative(Psi, s["q"]): E["q"],
                              sp.Derivative(Psi, V): E["V"]}) for c in raw[:3]]
    hats = sp.solve(plain, [s["m_hat"], s["q_hat"], s["V_hat"]], dict=True)[0]
    hat_update = {}
    for name, key in (("m_hat", "m"), ("q_hat", "V"), ("V_hat", "q")):  # ∂Φ/∂m ∋ m̂, ∂Φ/∂V ∋ q̂, ∂Φ/∂q ∋ V̂
        coeff = sp.simplify(hats[s[name]] / (s["alpha"] * E[key]))  # θ̂ = α·coeff·E[I_θ]
        hat_update[name] = sp.expand(coeff * psi[key]) if name != "V_hat" else coeff * psi[key]
    ent = sp.solve([c.equation for c in raw[3:]], [s["m"], s["q"], V], dict=True)[0]
    entropic = {"m": sp.simplify(ent[s["m"]]), "q": sp.simplify(ent[s["q"]]), "V": sp.simplify(ent[V])}
    return ReplicaDerivation(C, r, s, B, om, uu, zs, Phi, conditions, psi, R, hat_update, entropic, checks)


# ------------------------------------------------------------------------------------------------
# checks against the theory file's equations


def theory_integrands(d: ReplicaDerivation) -> dict[str, Any]:
    """The integrands of (14) as written in the theory file (reduced coordinates):
    m̂: Σ_y f_y·Bᵀ[p*_y(e_y − p*)], q̂: Σ_y p*_y‖f_y‖², V̂: Σ_y p*_y (r − tr A_y⁻¹)/V, A_y = I + V BᵀD(p_y)B."""
    C, r, B, V = d.colours, d.rank, d.B, d.s["V"]
    ps = [Softmax(c, *_logits(B, d.u)) for c in range(C)]
    out = {"m_hat": 0, "q_hat": 0, "V_hat": 0}
    for y in range(C):
        f = [(d.z[y][k] - d.omega[k]) / V for k in range(r)]
        g = [ps[y] * ((1 if c == y else 0) - ps[c]) for c in range(C)]
        out["m_hat"] += sp.Add(*[f[k] * B[c, k] * g[c] for k in range(r) for c in range(C)])
        out["q_hat"] += ps[y] * sp.Add(*[fk ** 2 for fk in f])
        p = [Softmax(c, *_logits(B, d.z[y])) for c in range(C)]
        D = sp.Matrix(C, C, lambda a, b: (p[a] if a == b else 0) - p[a] * p[b])
        A = sp.eye(r) + V * B.T * D * B
        out["V_hat"] += ps[y] * (r - _trace_inverse(A)) / V
    return out


def check_against_theory(d: ReplicaDerivation) -> dict[str, bool]:
    """The derived energetic update equals (14) (m̂, q̂ exactly by expansion; V̂ at random points),
    and the derived entropic update equals (13)."""
    th = theory_integrands(d)
    s = d.s
    out = {"m_hat": sp.expand(d.hat_update["m_hat"] - th["m_hat"]) == 0,
           "q_hat": sp.expand(d.hat_update["q_hat"] - th["q_hat"]) == 0,
           "V_hat": _numeric_equal(d.hat_update["V_hat"], th["V_hat"], set())}
    den = s["lam"] + s["V_hat"]
    ref = {"m": s["rho"] * s["m_hat"] / den, "q": (s["rho"] * s["m_hat"] ** 2 + s["q_hat"]) / den ** 2, "V": 1 / den}
    for k in ("m", "q", "V"):
        out[k] = sp.simplify(d.entropic_update[k] - ref[k]) == 0
    return out


def c2_reduction() -> dict[str, Any]:
    """C = 2 with U = [[1, −1], [−1, 1]] (B = (1, −1)ᵀ): the derived equations are those of ridge
    logistic regression (§7.8) with h = 2z, ω_v = 2ω, h* = 2u, V_v = 4V, ρ_v = 4ρ, λ_v = λ/4.

    Returns the simplified differences (each 0): derived hat integrand − 4 × logistic integrand
    for m̂, q̂, V̂ (so (m̂, q̂, V̂) = 4(m̂_v, q̂_v, V̂_v)), the proximal conditions (R_0 = 2 × logistic
    condition for y = +1, R_1 for y = −1), and the entropic update mapped by (m, q, V) = (m_v, q_v, V_v)/4.
    """
    d = derive_replica(2, basis=((1,), (-1,)))
    s = d.s
    wv, hs, Vv = sp.Symbol(r"\omega_v", real=True), sp.Symbol("h^*", real=True), sp.Symbol("V_v", positive=True)
    h = {+1: sp.Symbol("h_{+}", real=True), -1: sp.Symbol("h_{-}", real=True)}
    sig = lambda x: 1 / (1 + sp.exp(-x))  # noqa: E731
    mapping = {d.omega[0]: wv / 2, d.u[0]: hs / 2, d.z[0][0]: h[+1] / 2, d.z[1][0]: h[-1] / 2, s["V"]: Vv / 4}
    fv = {y: (h[y] - wv) / Vv for y in (1, -1)}
    l2 = {y: sig(h[y]) * sig(-h[y]) for y in (1, -1)}
    logistic = {"m_hat": sp.Add(*[y * sig(hs) * sig(-hs) * fv[y] for y in (1, -1)]),
                "q_hat": sp.Add(*[sig(y * hs) * fv[y] ** 2 for y in (1, -1)]),
                "V_hat": sp.Add(*[sig(y * hs) * l2[y] / (1 + Vv * l2[y]) for y in (1, -1)])}
    out: dict[str, Any] = {}
    for k in ("m_hat", "q_hat", "V_hat"):
        derived = explicit(d.hat_update[k]).xreplace(mapping)
        out[k] = sp.simplify((derived - 4 * logistic[k]).rewrite(sp.exp))
    for y, col in ((1, 0), (-1, 1)):
        cond_v = (h[y] - wv) / Vv - y * sig(-y * h[y])
        out[f"prox y={y:+d}"] = sp.simplify((explicit(d.prox_gradient[col][0]).xreplace(mapping) - 2 * cond_v).rewrite(sp.exp))
    rv, lv = sp.Symbol(r"\rho_v", positive=True), sp.Symbol(r"\lambda_v", positive=True)
    mh, qh, vh = sp.symbols(r"\hat{m}_v \hat{q}_v \hat{V}_v", positive=True)
    reps = {s["rho"]: rv / 4, s["lam"]: 4 * lv, s["m_hat"]: 4 * mh, s["q_hat"]: 4 * qh, s["V_hat"]: 4 * vh}
    den = lv + vh
    ref_v = {"m": rv * mh / den, "q": (rv * mh ** 2 + qh) / den ** 2, "V": 1 / den}
    for k in ("m", "q", "V"):
        out[f"entropic {k}"] = sp.simplify(d.entropic_update[k].xreplace(reps) - ref_v[k] / 4)
    return out


# ------------------------------------------------------------------------------------------------
# limits (15)-(16) from the derived equations


def alpha_to_zero(d: ReplicaDerivation) -> dict[str, Any]:
    """Leading order as α → 0 at fixed λ, eq. (15), from the derived updates.

    Hats are O(α), so V → 1/λ, m, q → 0 and ω = √q ξ → 0: the proximal points become the
    deterministic z̄_y (symbols ``zbar``, the prox at ω = 0, V = 1/λ) and the expectation acts on the
    teacher field u ~ N(0, ρI) only.  Returns m/α, q/α, V̂/α as expressions with :class:`GaussE`
    over u, plus the substitution used.
    """
    s = d.s
    zbar = tuple(tuple(sp.Symbol(rf"\bar{{z}}_{{{y}{k + 1}}}", real=True) for k in range(d.rank)) for y in range(d.colours))
    reps = {w: 0 for w in d.omega}
    reps[s["V"]] = 1 / s["lam"]
    reps.update({d.z[y][k]: zbar[y][k] for y in range(d.colours) for k in range(d.rank)})
    hat = {k: sp.expand(v.xreplace(reps)) for k, v in d.hat_update.items()}
    # (13) to leading order in α: m = ρ m̂/λ, q = (ρ m̂² + q̂)/λ² → q̂/λ² (m̂² = O(α²))
    return {"m_over_alpha": s["rho"] / s["lam"] * GaussE(hat["m_hat"]),
            "q_over_alpha": GaussE(hat["q_hat"]) / s["lam"] ** 2,
            "V_hat_over_alpha": GaussE(hat["V_hat"]),
            "zbar": zbar, "integrands": hat}


def _uniform_softmax(expr: Any, C: int) -> Any:
    """softmax_c(0, …, 0) = 1/C."""
    return expr.replace(lambda e: isinstance(e, Softmax) and all(a == 0 for a in e.args[1:]),
                        lambda e: sp.Rational(1, C))


def large_ridge(d: ReplicaDerivation) -> dict[str, Any]:
    """Leading order as λ → ∞ at fixed α, eq. (16), from the derived equations.

    V = 1/(λ + V̂) → 0.  The proximal condition at z = ω + Vδ reads δ + Bᵀ(softmax(B(ω + Vδ)) − e_y)
    = 0, so at V = 0: δ_y = Bᵀ(e_y − softmax(Bω)) and f_y = (z* − ω)/V = δ_y + O(V).  With m, q → 0
    also ω → 0 and softmax(0) = 1/C.  The V̂ integrand (r − tr J)/V at z = 0 is rational in V and its
    limit V → 0 is taken by SymPy.  Returns the three hat integrands per unit α (expectations over
    u ~ N(0, ρI)), the first-order proximal displacement, and m, q, V̂ to leading order in 1/λ.
    """
    s, C, r = d.s, d.colours, d.rank
    V = s["V"]
    delta = [sp.Symbol(f"delta_{k}") for k in range(r)]
    first_order = {}
    for y in range(C):
        cond = [d.prox_gradient[y][k].xreplace({d.z[y][j]: d.omega[j] + V * delta[j] for j in range(r)})
                for k in range(r)]
        lead = [sp.expand(c.subs(V, 0)) for c in cond]
        sol = sp.solve(lead, delta, dict=True)[0]
        first_order[y] = [sol[dj] for dj in delta]
    at_zero = {w: 0 for w in d.omega}
    out_int = {}
    for key in ("m_hat", "q_hat"):
        e = sp.expand(d.hat_update[key].xreplace(
            {d.z[y][k]: d.omega[k] + V * first_order[y][k] for y in range(C) for k in range(r)}))
        out_int[key] = sp.simplify(_uniform_softmax(e.xreplace(at_zero), C))
    e = d.hat_update["V_hat"].xreplace({d.z[y][k]: 0 for y in range(C) for k in range(r)})
    out_int["V_hat"] = sp.simplify(sp.limit(_uniform_softmax(e, C), V, 0))
    m_hat, q_hat = GaussE(out_int["m_hat"]), GaussE(out_int["q_hat"])
    return {"integrands": out_int, "prox_first_order": first_order,
            "m": s["rho"] * s["alpha"] * m_hat / s["lam"],
            "q": (s["rho"] * (s["alpha"] * m_hat) ** 2 + s["alpha"] * q_hat) / s["lam"] ** 2,
            "V_hat": s["alpha"] * GaussE(out_int["V_hat"])}


# ------------------------------------------------------------------------------------------------
# numbers


class _Printer(st.JaxCodePrinter):
    def _print_Softmax(self, expr):
        return "softmax_c(%d, %s)" % (int(expr.args[0]), ", ".join(self._print(a) for a in expr.args[1:]))

    def _print_LogSumExp(self, expr):
        return "logsumexp_args(%s)" % ", ".join(self._print(a) for a in expr.args)


def _softmax_c(c: int, *t: Any) -> Any:
    import jax
    import jax.numpy as jnp

    t = jnp.broadcast_arrays(*t)
    return jax.nn.softmax(jnp.stack(t, axis=-1), axis=-1)[..., c]


def _logsumexp_args(*t: Any) -> Any:
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    return logsumexp(jnp.stack(jnp.broadcast_arrays(*t), axis=-1), axis=-1)


def numeric_integrands(d: ReplicaDerivation) -> dict[str, Callable]:
    """JAX callables of the derived integrands: ``fn(omega, u, z, V, B)`` with omega, u of shape
    (..., r), z (..., C, r), scalar V, B (C, r) — for ∂Ψ/∂m, ∂Ψ/∂q, ∂Ψ/∂V (keys ``m``, ``q``, ``V``)."""
    C, r = d.colours, d.rank
    Bsym = sp.ImmutableMatrix(C, r, lambda c, k: sp.Symbol(f"B_{c}_{k}"))
    reps = {d.B[c, k]: Bsym[c, k] for c in range(C) for k in range(r) if isinstance(d.B[c, k], sp.Symbol)}
    args = list(d.omega) + list(d.u) + [d.z[y][k] for y in range(C) for k in range(r)] + [d.s["V"]] + list(Bsym)
    extra = {"softmax_c": _softmax_c, "logsumexp_args": _logsumexp_args}
    out = {}
    for key, expr in d.psi_integrands.items():
        raw = st.jax_function(args, expr.xreplace(reps), extra=extra, printer=_Printer())

        def fn(omega, u, z, V, B, _raw=raw):
            import jax.numpy as jnp

            flat = ([omega[..., k] for k in range(r)] + [u[..., k] for k in range(r)]
                    + [z[..., y, k] for y in range(C) for k in range(r)] + [V]
                    + [jnp.asarray(B)[c, k] for c in range(C) for k in range(r)])
            return _raw(*flat)

        out[key] = fn
    return out


def stationarity_residuals(d: ReplicaDerivation, setting: Any, alpha: float, state: Any, *,
                           proximal_map: Callable) -> dict[str, float]:
    """The six derived conditions ∂Φ/∂θ evaluated at a numeric state (should vanish at a solution).

    ∂Φ/∂(m̂, q̂, V̂) are closed form; ∂Φ/∂(m, q, V) = (−m̂, ½V̂, −½q̂) − α E[I_θ] with the derived
    integrands I_θ averaged by the setting's cubature: ω = √q ξ, u = (m/√q) ξ + √(ρ − m²/q) ζ, and
    z*_y(ω) from ``proximal_map(ω, V, e_y, B)`` — pass :func:`statmech_attn.potts.replica.proximal_map`
    (the derivations import nothing of the numbers; the caller hands the numeric map in).
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    B = np.asarray(setting.range_basis)
    if B.shape != (d.colours, d.rank):
        from statmech_attn.errors import InputError

        raise InputError("setting", f"B of shape {B.shape}", f"must match the derivation (C, r) = ({d.colours}, {d.rank})")
    rx, rz = setting.rules()
    m, q, V = float(state.m), float(state.q), float(state.V)
    rho, lam = float(setting.teacher_norm), float(setting.ridge)
    xi, zeta = jnp.asarray(rx.nodes), jnp.asarray(rz.nodes)
    omega = math.sqrt(q) * xi
    z = jax.vmap(jax.vmap(proximal_map, (None, None, 0, None)), (0, None, None, None))(
        omega, jnp.asarray(V), jnp.eye(d.colours), jnp.asarray(B))  # (K, C, r)
    u = (m / math.sqrt(q)) * xi[:, None, :] + math.sqrt(max(rho - m * m / q, 0.0)) * zeta[None, :, :]
    w = jnp.asarray(rx.weights)[:, None] * jnp.asarray(rz.weights)[None, :]
    fns = numeric_integrands(d)
    E = {k: float(jnp.sum(w * fns[k](omega[:, None, :], u, z[:, None, :, :], V, B))) for k in fns}
    s = {k: float(getattr(state, k)) for k in ("m_hat", "q_hat", "V_hat")}
    vals = {d.s["m"]: m, d.s["q"]: q, d.s["V"]: V, d.s["m_hat"]: s["m_hat"], d.s["q_hat"]: s["q_hat"],
            d.s["V_hat"]: s["V_hat"], d.s["alpha"]: float(alpha), d.s["lam"]: lam, d.s["rho"]: rho}
    out = {}
    for c in d.conditions:
        eq = c.equation.replace(lambda e: isinstance(e, GaussE), lambda e: _which(e, d, E))
        out[c.parameter.label] = float(eq.subs(vals))
    return out


def _which(e: GaussE, d: ReplicaDerivation, values: Mapping[str, float]) -> sp.Float:
    for k, expr in d.psi_integrands.items():
        if e.args[0] == expr:
            return sp.Float(values[k])
    raise KeyError("unknown expectation")


# ------------------------------------------------------------------------------------------------
# LaTeX


def _display(d: ReplicaDerivation, expr: Any) -> Any:
    """Abbreviate for display: p*_c = softmax_c(Bu), p_{y,c} = softmax_c(B z*_y), z_{y,k} → z*_{y,k}."""
    C, r = d.colours, d.rank
    reps = {Softmax(c, *_logits(d.B, d.u)): sp.Symbol(f"p^*_{{{c}}}") for c in range(C)}
    for y in range(C):
        for c in range(C):
            reps[Softmax(c, *_logits(d.B, d.z[y]))] = sp.Symbol(f"p_{{{y}{c}}}")
        for k in range(r):
            reps[d.z[y][k]] = sp.Symbol(f"z^*_{{{y}{k + 1}}}")
    return expr.xreplace(reps)


def to_latex(d: ReplicaDerivation) -> str:
    """A standalone LaTeX fragment: symbols, the free energy, the six stationarity conditions
    (generic helper), then the fixed-point forms (13)–(14), the C = 2 reduction and the limits."""
    s = d.s
    conds = tuple(dataclasses.replace(c, equation=_display(d, c.equation)) for c in d.conditions)
    definitions = [
        (r"\Psi(m,q,V)", r"$\mathbb{E}_{\omega,u}\sum_y \operatorname{softmax}_y(Bu)\,\mathcal{M}_V(y,\omega)$, "
                         r"$(\omega_k,u_k)\sim\mathcal{N}(0,[[q,m],[m,\rho]])$ i.i.d. over $k=1..r$"),
        (r"\mathcal{M}_V(y,\omega)", r"$\min_z \|z-\omega\|^2/(2V) + \operatorname{CE}(y,Bz)$ (Moreau envelope); "
                                     r"$z^*_{y}$ its minimiser"),
        (r"B", rf"basis of range($\Sigma$), $C\times r$ = ${d.colours}\times{d.rank}$, entries $b_{{ck}}$"),
        (r"p^*_c,\ p_{yc}", r"$\operatorname{softmax}_c(Bu)$ and $\operatorname{softmax}_c(Bz^*_y)$"),
    ]
    text = st.to_latex(conds, key="potts-replica", title="Replica-symmetric equations of one factored-attention row",
                       definitions=definitions, free_energy=d.free_energy, free_energy_lhs=r"\Phi",
                       notes=["derivatives of Psi by Price's theorem, the envelope theorem and the implicit-function theorem"])
    lines = [text, r"\paragraph{Fixed-point form.}"]
    for k in ("m", "q", "V"):
        lines += [r"\begin{equation}", rf"  {st.latex(s[k])} = {st.latex(d.entropic_update[k])}", r"\end{equation}"]
    for k in ("m_hat", "q_hat", "V_hat"):
        lines += [r"\begin{equation}",
                  rf"  {st.latex(s[k])} = \alpha\,\mathbb{{E}}_{{\omega,u}}\Big[{st.latex(_display(d, d.hat_update[k]))}\Big]",
                  r"\end{equation}"]
    return "\n".join(lines) + "\n"
