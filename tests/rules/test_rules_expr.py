"""The condition language: parsing, type checking, evaluation, and properties (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.expr import ExprError, compile_condition, parse, parse_duration

SCHEMA = {
    "deal": {
        "amount": "number",
        "stage": "string",
        "last_activity_at": "datetime",
        "owner_id": "number",
    },
    "event": {"score": "number", "kind": "string", "extra": "any"},
}
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def env(**deal: object) -> dict[str, object]:
    return {
        "now": NOW,
        "deal": deal,
        "event": {"score": 0.9, "kind": "churn", "extra": {"tier": "gold"}},
    }


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("deal.amount >= 5000", {"amount": 5000.0}, True),
        (
            "deal.amount > 5000 or deal.stage == 'proposal'",
            {"amount": 1.0, "stage": "proposal"},
            True,
        ),
        ("not deal.amount < 10", {"amount": 5.0}, False),
        ("deal.stage in ['proposal', \"negotiation\"]", {"stage": "negotiation"}, True),
        ("deal.stage not in ['proposal']", {"stage": "negotiation"}, True),
        ("deal.last_activity_at < now - 14d", {"last_activity_at": NOW - timedelta(days=15)}, True),
        (
            "deal.last_activity_at < now - 14d",
            {"last_activity_at": NOW - timedelta(days=13)},
            False,
        ),
        ("deal.last_activity_at + 2w > now", {"last_activity_at": NOW - timedelta(days=13)}, True),
        ("deal.amount > 10", {"amount": None}, False),  # null never orders
        ("deal.owner_id == null", {"owner_id": None}, True),
        ("event.extra.tier == 'gold' and event.score >= 0.9", {}, True),
        ("-deal.amount == -10", {"amount": 10.0}, True),
    ],
)
def test_conditions_evaluate(text: str, values: dict[str, object], expected: bool) -> None:
    assert compile_condition(text, SCHEMA)(env(**values)) is expected


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("deal.amount > 'big'", 13, "cannot order a number against a string"),
        ("deal.amout > 1", 1, "deal has no field 'amout'"),
        ("lead.score > 1", 1, "unknown name 'lead'"),
        ("deal.amount", 1, "must be true or false"),
        ("deal.amount >", 14, "expected a value"),
        ("deal.stage == 'a' and", 22, "expected a value"),
        ("deal.amount > 1 ; drop", 17, "unexpected character ';'"),
        ("__import__('os')", 11, "unexpected"),
        ("now + 3 > now", 5, "cannot compute datetime + number"),
        ("deal.amount in 3", 13, "'in' needs a list"),
        ("deal.amount < null", 13, "use == null"),
        ("deal.stage and true", 1, "needs true/false"),
        ("(deal.amount > 1", 17, "expected ')'"),
    ],
)
def test_errors_name_the_column_and_problem(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ExprError) as info:
        compile_condition(text, SCHEMA)
    assert fragment in info.value.message
    assert info.value.column == column


def test_durations() -> None:
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("2w") == timedelta(days=14)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("14 days")


def test_audit_reports_the_values_read() -> None:
    condition = compile_condition("deal.amount > 1 and deal.last_activity_at < now", SCHEMA)
    values = condition.matched_values(env(amount=2.0, last_activity_at=NOW))
    assert values == {"deal.amount": 2.0, "deal.last_activity_at": NOW.isoformat()}


# ---------------------------------------------------------------- properties

_ints = st.integers(min_value=-10_000, max_value=10_000)


@st.composite
def arithmetic(draw: st.DrawFn, depth: int = 0) -> tuple[str, int]:
    """A random integer expression as text, with its value computed by Python."""
    if depth > 3 or draw(st.booleans()):
        value = draw(_ints)
        return (f"({value})" if value >= 0 else f"(-{-value})"), value
    op = draw(st.sampled_from(["+", "-"]))
    (left, lv), (right, rv) = draw(arithmetic(depth + 1)), draw(arithmetic(depth + 1))
    return f"({left} {op} {right})", lv + rv if op == "+" else lv - rv


@st.composite
def boolean(draw: st.DrawFn, depth: int = 0) -> tuple[str, bool]:
    """A random boolean expression as text, with the value Python gives it."""
    choice = draw(st.integers(0, 3)) if depth < 3 else 0
    if choice == 0:
        (left, lv), (right, rv) = draw(arithmetic()), draw(arithmetic())
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
        result = {
            "==": lv == rv,
            "!=": lv != rv,
            "<": lv < rv,
            "<=": lv <= rv,
            ">": lv > rv,
            ">=": lv >= rv,
        }[op]
        return f"{left} {op} {right}", result
    if choice == 1:
        text, value = draw(boolean(depth + 1))
        return f"not ({text})", not value
    (left, lv), (right, rv) = draw(boolean(depth + 1)), draw(boolean(depth + 1))
    if choice == 2:
        return f"({left}) and ({right})", lv and rv
    return f"({left}) or ({right})", lv or rv


@settings(max_examples=150, deadline=None)
@given(boolean())
def test_generated_conditions_evaluate_like_python(case: tuple[str, bool]) -> None:
    text, expected = case
    assert compile_condition(text, SCHEMA)({"now": NOW}) is expected


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_any_text_either_parses_or_raises_a_located_error(text: str) -> None:
    try:
        parse(text)
    except ExprError as exc:
        assert 1 <= exc.column <= len(text) + 1
        assert str(exc).startswith(f"column {exc.column}: ")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "deal.amount",
                "deal.stage",
                "and",
                "or",
                "not",
                "in",
                "(",
                ")",
                "[",
                "]",
                ",",
                "==",
                "<",
                "-",
                "+",
                "1",
                "'x'",
                "14d",
                "now",
                "null",
                "event.extra.tier",
            ]
        ),
        max_size=12,
    )
)
def test_token_soup_never_escapes_the_error_type(tokens: list[str]) -> None:
    try:
        condition = compile_condition(" ".join(tokens), SCHEMA)
    except ExprError:
        return
    assert condition(env(amount=3.0, stage="proposal")) in (True, False)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
    st.integers(0, 10**9),
    st.integers(0, 99),
)
def test_number_literals_compare_with_fields(amount: float, whole: int, cents: int) -> None:
    bound = float(f"{whole}.{cents:02d}")
    condition = compile_condition(f"deal.amount >= {whole}.{cents:02d}", SCHEMA)
    assert condition(env(amount=amount)) is (amount >= bound)
