"""A pattern's estimates: worked out for a run's context or for its samples, and in words."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from catalog.estimates import amount_in_words, cost_in_words, estimate_for, samples_of, worked_out
from catalog.models import Pattern, Tenant, ToolVersion
from catalog.services import create_tool
from tests.factories import BASE_DEFINITION, make_definition


def published(tenant: Tenant, **pattern_overrides: Any) -> ToolVersion:
    """A published tool's current version; ``pattern_overrides`` change its one pattern."""
    capability = dict(BASE_DEFINITION["capabilities"][0])
    capability["patterns"] = [{**capability["patterns"][0], **pattern_overrides}]
    tool = create_tool(
        tenant, definition=make_definition(capabilities=[capability]), actor=None, publish=True
    )
    assert tool.current_version is not None
    return tool.current_version


def pattern_of(version: ToolVersion) -> Pattern:
    return Pattern.objects.get(capability__version=version)


@pytest.fixture
def version(tenant: Tenant) -> ToolVersion:
    return published(tenant)


def test_estimates_use_the_samples_for_variables_not_given(version: ToolVersion) -> None:
    pattern = pattern_of(version)
    assert estimate_for(pattern, {}) == (220.0, 1.0)  # sample N = 10
    assert estimate_for(pattern, {"N": 0, "unrelated": "x"}) == (200.0, 1.0)


def test_estimate_refuses_a_non_number_for_a_declared_variable(version: ToolVersion) -> None:
    for value in ["ten", True, None, float("inf")]:
        with pytest.raises(ValidationError) as raised:
            estimate_for(pattern_of(version), {"N": value})
        assert "context" in raised.value.message_dict


def test_estimate_is_none_when_it_cannot_be_computed(tenant: Tenant) -> None:
    version = published(tenant, time_estimate_ms="1000 / N", cost_estimate="")
    pattern = pattern_of(version)
    assert estimate_for(pattern, {"N": 0}) == (None, None)
    assert estimate_for(pattern, {"N": 4}) == (250.0, None)
    assert estimate_for(None, {"N": 4}) == (None, None)


def test_samples_are_the_declared_ones_and_one_where_none_is_given() -> None:
    declared = {"N": {"sample": 300}, "M": {"description": "no sample"}, "S": {"sample": "x"}}
    assert samples_of(declared) == {"N": 300.0, "M": 1.0}
    assert samples_of("not an object") == {}


@pytest.mark.parametrize(
    ("expression", "kind", "text"),
    [
        ("2000 + 0.5 * N", "time", "= 2,150 ms for N=300"),
        ("1000 * N", "time", "= 300,000 ms (about 5 minutes) for N=300"),
        ("0.01 * N", "cost", "= 3 cost units for N=300"),
        ("1500", "time", "= 1,500 ms"),
    ],
)
def test_an_estimate_in_words_gives_its_value_and_the_samples_it_used(
    expression: str, kind: Any, text: str
) -> None:
    worked = worked_out(expression, {"N": 300, "unused": 2}, kind)
    assert worked is not None and worked.ok
    assert worked.text == text


def test_an_estimate_that_cannot_be_worked_out_says_why() -> None:
    assert worked_out("   ", {}, "time") is None
    unknown = worked_out("2 * X", {"N": 1}, "time")
    assert unknown is not None and not unknown.ok and unknown.text.startswith("This formula ")
    negative = worked_out("10 - 2 * N", {"N": 300}, "cost")
    assert negative is not None and "cannot be negative" in negative.problem


def test_amounts_and_costs_read_the_same_everywhere() -> None:
    assert amount_in_words(0.0042, "cost") == "0.0042 cost units"
    assert amount_in_words(2.5, "time") == "2.5 ms"
    assert cost_in_words(1234.567) == "1,234.57 cost units"
