"""Fusion methods: hand-computed examples, Zadeh's paradox, properties and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import fusion
from fusion.dempster_shafer import TotalConflictError, dempster
from fusion.improved import credibility, evidence_distance, gini_uncertainty
from fusion.validate import FusionInputError

M1 = np.array([[0.6, 0.3, 0.1]])
M2 = np.array([[0.5, 0.2, 0.3]])
A3 = np.array([[0.7, 0.2, 0.1]])
B3 = np.array([[0.6, 0.3, 0.1]])
C3 = np.array([[0.1, 0.1, 0.8]])


def fuse(name, *masses, **params):
    probs = {f"f{i}": m for i, m in enumerate(masses)}
    return fusion.create(name, **params).fit(probs).combine(probs)


# -- hand-computed two-source examples -------------------------------------------------------
def test_two_sources_by_hand():
    np.testing.assert_allclose(fuse("wa", M1, M2, weights="uniform"), [[0.55, 0.25, 0.20]])
    np.testing.assert_allclose(fuse("wa", M1, M2, weights=[3, 1]), [[0.575, 0.275, 0.15]])
    # Dempster: products 0.30, 0.06, 0.03; K = 1 - 0.39 = 0.61
    np.testing.assert_allclose(fuse("ds", M1, M2), [[0.30 / 0.39, 0.06 / 0.39, 0.03 / 0.39]])
    _, k, total = dempster(np.stack([M1, M2]))
    np.testing.assert_allclose(k, [0.61])
    assert not total.any()
    # Murphy: average (0.55, 0.25, 0.2) combined with itself once
    murphy = np.array([0.55**2, 0.25**2, 0.2**2]) / (0.55**2 + 0.25**2 + 0.2**2)
    np.testing.assert_allclose(fuse("murphy", M1, M2), [murphy])
    # Deng with two sources: equal credibility (the distance is symmetric), so Murphy's result
    np.testing.assert_allclose(fuse("deng", M1, M2), [murphy])
    # ids: Gini 0.54 and 0.62 -> weights 0.46 : 0.38, then the average combined with itself once
    w = np.array([0.46, 0.38]) / 0.84
    avg = w[0] * M1[0] + w[1] * M2[0]
    np.testing.assert_allclose(fuse("ids", M1, M2), [avg**2 / (avg**2).sum()])


def test_three_sources_by_hand():
    masses = np.stack([A3, B3, C3])
    # Dempster: products 0.042, 0.006, 0.008 -> sum 0.056
    np.testing.assert_allclose(fuse("ds", A3, B3, C3), [[0.042 / 0.056, 0.006 / 0.056, 0.008 / 0.056]])
    # distances: d12 = sqrt(0.5 * 0.02) = 0.1, d13 = sqrt(0.5 * 0.86), d23 = sqrt(0.5 * 0.78)
    d12, d13, d23 = 0.1, np.sqrt(0.43), np.sqrt(0.39)
    np.testing.assert_allclose(evidence_distance(masses)[0], [[0, d12, d13], [d12, 0, d23], [d13, d23, 0]], atol=1e-12)
    s = np.array([2 - d12 - d13, 2 - d12 - d23, 2 - d13 - d23])
    c = s / s.sum()
    np.testing.assert_allclose(credibility(evidence_distance(masses))[0], c)
    avg = c @ masses[:, 0]
    np.testing.assert_allclose(fuse("deng", A3, B3, C3), [avg**3 / (avg**3).sum()])
    g = np.array([1 - 0.54, 1 - 0.46, 1 - 0.66])  # Gini 0.46, 0.54, 0.34
    np.testing.assert_allclose(gini_uncertainty(masses)[0], g)
    w = c * (1 - g) / (c * (1 - g)).sum()
    avg = w @ masses[:, 0]
    np.testing.assert_allclose(fuse("ids", A3, B3, C3), [avg**3 / (avg**3).sum()])
    avg = masses[:, 0].mean(axis=0)
    np.testing.assert_allclose(fuse("murphy", A3, B3, C3), [avg**3 / (avg**3).sum()])
    np.testing.assert_allclose(fuse("wa", A3, B3, C3, weights="uniform"), [avg])


def test_zadeh_paradox():
    m1, m2 = np.array([[0.99, 0.01, 0.0]]), np.array([[0.0, 0.01, 0.99]])
    fused, k, total = dempster(np.stack([m1, m2]))
    np.testing.assert_allclose(k, [0.9999])
    np.testing.assert_allclose(fused, [[0.0, 1.0, 0.0]])
    assert not total.any()
    for name in ("murphy", "deng", "ids"):
        out = fuse(name, m1, m2)[0]
        assert out.argmax() != 1 and out[1] < 0.01, name


def test_total_conflict_falls_back_or_raises():
    m1, m2 = np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([[0.0, 1.0], [0.5, 0.5]])
    ds = fusion.create("ds")
    out = ds.combine({"a": m1, "b": m2})
    np.testing.assert_allclose(out, [[0.5, 0.5], [0.5, 0.5]])  # clip 0 by average, clip 1 by Dempster
    assert ds.n_total_conflicts_ == 1 and ds.conflict_[0] == 1.0
    with pytest.raises(TotalConflictError, match="total conflict.*1 of 2 clips"):
        fusion.create("ds", on_conflict="raise").combine({"a": m1, "b": m2})


def test_fitted_weights_need_targets_and_are_reported():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 4, 200)
    good = np.eye(4)[t] * 0.6 + 0.1
    bad = rng.dirichlet(np.ones(4), 200)
    with pytest.raises(FusionInputError, match="needs targets"):
        fusion.create("wa").fit({"good": good, "bad": bad})
    for mode in ("accuracy", "logloss"):
        wa = fusion.create("wa", weights=mode).fit({"good": good, "bad": bad}, t)
        assert wa.weights_[0] > wa.weights_[1] and np.isclose(wa.weights_.sum(), 1), mode


# -- properties ------------------------------------------------------------------------------
def masses_strategy(n_sources, n_classes=5, n_clips=3):
    return arrays(np.float64, (n_sources, n_clips, n_classes), elements=st.floats(0.01, 1.0)).map(
        lambda a: a / a.sum(axis=2, keepdims=True)
    )


@settings(max_examples=40, deadline=None)
@given(masses_strategy(3))
def test_ds_commutative_and_associative(m):
    a, b, c = ({"x": m[i]} for i in range(3))

    def ds(*srcs):
        return fusion.create("ds").combine({f"s{i}": s["x"] for i, s in enumerate(srcs)})

    abc = ds(a, b, c)
    np.testing.assert_allclose(ds(c, a, b), abc, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ds({"x": ds(a, b)}, c), abc, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ds(a, {"x": ds(b, c)}), abc, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(masses_strategy(1))
def test_uniform_mass_is_neutral_for_ds(m):
    uniform = np.full_like(m[0], 1 / m.shape[2])
    np.testing.assert_allclose(fusion.create("ds").combine({"m": m[0], "u": uniform}), m[0], rtol=1e-9)


@pytest.mark.parametrize("name", ["wa", "ds", "ids", "murphy", "deng"])
@settings(max_examples=25, deadline=None)
@given(m=masses_strategy(4))
def test_outputs_are_masses_and_one_source_returns_itself(name, m):
    params = {"weights": "uniform"} if name == "wa" else {}
    out = fusion.create(name, **params).combine({f"s{i}": m[i] for i in range(4)})
    assert (out >= 0).all() and np.allclose(out.sum(axis=1), 1)
    np.testing.assert_allclose(fusion.create(name, **params).combine({"only": m[0]}), m[0], rtol=1e-9)


@pytest.mark.parametrize("name", ["wa", "ds", "ids", "murphy", "deng"])
def test_eight_sources_tiny_probabilities_no_nan(name):
    rng = np.random.default_rng(1)
    logits = rng.normal(scale=60, size=(8, 100, 50))  # many probabilities below 1e-20
    p = np.exp(logits - logits.max(axis=2, keepdims=True))
    p /= p.sum(axis=2, keepdims=True)
    assert (p < 1e-20).mean() > 0.5
    params = {"weights": "uniform"} if name == "wa" else {}
    out = fusion.create(name, **params).combine({f"s{i}": p[i] for i in range(8)})
    assert np.isfinite(out).all() and np.allclose(out.sum(axis=1), 1)


def test_ds_no_underflow_where_naive_products_vanish():
    # source i is almost sure of class i; every class product is about 1e-350, below float64's
    # range, so a naive product-then-normalise gives 0/0. In log space the answer is exact:
    # the 8 classes tie.
    eps = 1e-50
    p = np.full((8, 1, 8), eps)
    p[np.arange(8), 0, np.arange(8)] = 1 - 7 * eps
    assert np.prod(p, axis=0).max() == 0.0
    fused, k, total = dempster(p)
    assert not total.any() and k[0] == 1.0
    np.testing.assert_allclose(fused, np.full((1, 8), 1 / 8))


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([[0.5, 0.5, 0.0]]), r"feature 'b': shape \(1, 3\) differs from shape \(1, 2\) of feature 'a'"),
        (np.array([[np.nan, 1.0]]), r"feature 'b': 1 probabilities are NaN or inf"),
        (np.array([[np.inf, 0.0]]), r"feature 'b': 1 probabilities are NaN or inf"),
        (np.array([[1.2, -0.2]]), r"feature 'b': 1 probabilities are negative"),
        (np.array([[0.5, 0.4]]), r"feature 'b': 1 rows do not sum to 1"),
        (np.array([0.5, 0.5]), r"feature 'b': probabilities must be \(n_clips, n_classes\)"),
    ],
)
def test_bad_input_names_feature_and_problem(bad, message):
    for name in fusion.list_methods():
        with pytest.raises(FusionInputError, match=message):
            fusion.create(name, **({"weights": "uniform"} if name == "wa" else {})).combine(
                {"a": np.array([[0.5, 0.5]]), "b": bad}
            )


def test_registry():
    assert {"wa", "ds", "ids", "murphy", "deng"} <= set(fusion.list_methods())
    with pytest.raises(KeyError, match="unknown fusion method 'dss'.*choices: deng, ds, ids"):
        fusion.create("dss")
    with pytest.raises(ValueError, match="already registered"):
        fusion.register_method("ds")(type("X", (), {}))
