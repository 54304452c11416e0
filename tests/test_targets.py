"""Target files: the three accepted shapes, every rejection (exit 2, file + key + rule), market checks."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hlrebal.errors import ExitCode, TargetFileError
from hlrebal.targets import (
    CASH,
    Targets,
    check_gross,
    check_universe,
    load_targets,
    parse_targets,
    schema,
    weights_from_mapping,
)

DATA = Path(__file__).parent / "data" / "targets"
SRC = "my_targets.json"
UNIVERSE = ["BTC", "ETH", "SOL", "DOGE", "kPEPE", "HYPE", "ATOM", "XRP"]


def D(x: str | int) -> Decimal:
    return Decimal(str(x))


def rejected(text: str, source: str = SRC) -> str:
    """Parse ``text``, expect a TargetFileError with exit code 2; return its message."""
    with pytest.raises(TargetFileError) as info:
        parse_targets(text, source)
    assert info.value.exit_code == ExitCode.BAD_INPUT == 2
    message = str(info.value)
    assert source in message, message
    return message


def universe_error(targets: Targets, known=UNIVERSE, delisted=()) -> str:
    with pytest.raises(TargetFileError) as info:
        check_universe(targets, known, delisted)
    assert info.value.exit_code == 2
    return str(info.value)


# --------------------------------------------------------------------------- the three shapes


class TestShapes:
    def test_seed_format(self) -> None:
        t = load_targets(DATA / "seed.json")
        assert t.weights == {"BTC": D("0.40"), "ETH": D("0.30")}
        assert t.cash == D("0.30")
        assert t.cash_given is True
        assert t.policy == {}
        assert CASH not in t.weights

    def test_bare_mapping_rest_is_cash(self) -> None:
        t = load_targets(DATA / "bare.json")
        assert t.weights == {"BTC": D("0.4"), "ETH": D("0.3")}
        assert t.cash == D("0.3")
        assert t.cash_given is False
        assert t.policy == {}

    def test_with_policy_block(self) -> None:
        t = load_targets(DATA / "with_policy.json")
        assert t.weights == {"BTC": D("0.5"), "SOL": D("-0.1"), "kPEPE": D("0.1")}
        assert t.cash == D("0.5")
        assert t.policy == {
            "band": D("0.03"),
            "band_relative": D("0.25"),
            "trade_to": "edge",
            "untargeted": "keep",
            "min_trade_value": D("25"),
            "slippage": D("0.01"),
            "leverage": 3,
        }

    def test_policy_holds_only_keys_that_were_set(self) -> None:
        t = parse_targets('{"target_allocation": {"BTC": 0.5}, "policy": {"band": 0.02}}', SRC)
        assert t.policy == {"band": D("0.02")}

    def test_empty_policy_block_is_fine(self) -> None:
        t = parse_targets('{"target_allocation": {"BTC": 0.5}, "policy": {}}', SRC)
        assert t.policy == {}

    def test_dollar_schema_key_allowed_in_structured_shape(self) -> None:
        t = parse_targets('{"$schema": "./targets.schema.json", "target_allocation": {"ETH": 1}}', SRC)
        assert t.weights == {"ETH": D(1)}
        assert t.cash == 0

    def test_only_cash(self) -> None:
        t = parse_targets('{"target_allocation": {"USDC": 1}}', SRC)
        assert t.weights == {}
        assert t.cash == 1
        assert t.gross == 0

    def test_weights_keep_file_order(self) -> None:
        t = parse_targets('{"SOL": 0.1, "BTC": 0.2, "ETH": 0.3}', SRC)
        assert list(t.weights) == ["SOL", "BTC", "ETH"]

    def test_source_recorded(self) -> None:
        t = load_targets(DATA / "seed.json")
        assert t.source == str(DATA / "seed.json")

    def test_targets_are_frozen(self) -> None:
        t = parse_targets('{"BTC": 0.5}', SRC)
        with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError on frozen models
            t.cash = D(1)  # type: ignore[misc]


# --------------------------------------------------------------------------- Decimal exactness


class TestDecimalExactness:
    def test_point_one_stays_exact(self) -> None:
        t = parse_targets('{"BTC": 0.1, "ETH": 0.2, "USDC": 0.7}', SRC)
        assert t.weights["BTC"] == Decimal("0.1")
        assert isinstance(t.weights["BTC"], Decimal)
        assert t.weights["ETH"] == Decimal("0.2")
        assert t.cash == Decimal("0.7")

    def test_cash_remainder_is_exact(self) -> None:
        # 1 - 0.1 - 0.2 is 0.7 exactly in Decimal (in floats it is 0.7000000000000001)
        t = parse_targets('{"BTC": 0.1, "ETH": 0.2}', SRC)
        assert t.cash == Decimal("0.7")
        assert t.net == Decimal("0.3")

    def test_integer_weights_become_decimal(self) -> None:
        t = parse_targets('{"BTC": 1, "ETH": 0}', SRC)
        assert t.weights == {"BTC": Decimal(1), "ETH": Decimal(0)}
        assert all(isinstance(w, Decimal) for w in t.weights.values())

    def test_exponent_notation(self) -> None:
        t = parse_targets('{"BTC": 5e-1, "ETH": 2.5E-1}', SRC)
        assert t.weights == {"BTC": D("0.5"), "ETH": D("0.25")}
        assert t.cash == D("0.25")

    def test_policy_numbers_are_decimal(self) -> None:
        t = parse_targets('{"target_allocation": {"BTC": 0.5}, "policy": {"band": 0.1, "slippage": 0.003}}', SRC)
        assert t.policy["band"] == Decimal("0.1")
        assert t.policy["slippage"] == Decimal("0.003")
        assert isinstance(t.policy["band"], Decimal)

    @given(
        st.dictionaries(
            st.sampled_from(UNIVERSE),
            st.decimals(min_value=-1, max_value=1, places=6, allow_nan=False, allow_infinity=False),
            min_size=1,
            max_size=6,
        )
    )
    @settings(max_examples=60, deadline=None)
    def test_cash_is_one_minus_net_exactly(self, weights: dict[str, Decimal]) -> None:
        text = "{" + ", ".join(f'"{k}": {v}' for k, v in weights.items()) + "}"
        t = parse_targets(text, SRC)
        assert t.weights == weights
        assert t.cash == 1 - sum(weights.values(), Decimal(0))
        assert t.gross == sum((abs(w) for w in weights.values()), Decimal(0))
        assert t.net + t.cash == 1

    @given(
        st.dictionaries(
            st.sampled_from(UNIVERSE),
            st.decimals(min_value=-1, max_value=1, places=8, allow_nan=False, allow_infinity=False),
            min_size=1,
            max_size=6,
        )
    )
    @settings(max_examples=60, deadline=None)
    def test_explicit_cash_that_completes_the_sum_is_accepted(self, weights: dict[str, Decimal]) -> None:
        cash = 1 - sum(weights.values(), Decimal(0))
        body = {**{k: v for k, v in weights.items()}, "USDC": cash}
        text = '{"target_allocation": {' + ", ".join(f'"{k}": {v}' for k, v in body.items()) + "}}"
        t = parse_targets(text, SRC)
        assert t.cash == cash
        assert t.cash_given
        assert t.weights == weights


# --------------------------------------------------------------------------- rejections: the document


class TestDocumentErrors:
    @pytest.mark.parametrize("text", ["", " ", "\n\n", "\t \r\n "])
    def test_empty_or_whitespace_file(self, text: str) -> None:
        message = rejected(text)
        assert "empty" in message

    @pytest.mark.parametrize(
        "text",
        [
            '{"BTC": 0.5',
            '{"BTC": 0.5,}',
            "{'BTC': 0.5}",
            '{"BTC": .5}',
            '{"BTC": 0.5}\n{"ETH": 0.1}',
            "BTC: 0.5",
        ],
    )
    def test_invalid_json(self, text: str) -> None:
        message = rejected(text)
        assert "invalid JSON" in message
        assert "line" in message and "column" in message

    def test_invalid_json_points_at_the_line(self) -> None:
        message = rejected('{\n  "BTC": 0.5,\n  "ETH" 0.3\n}')
        assert "line 3" in message

    @pytest.mark.parametrize(
        ("text", "kind"),
        [
            ('["BTC", 0.5]', "an array"),
            ('"BTC"', "a string"),
            ("null", "null"),
            ("true", "a boolean"),
        ],
    )
    def test_not_an_object(self, text: str, kind: str) -> None:
        message = rejected(text)
        assert "must be a JSON object" in message
        assert kind in message

    @pytest.mark.parametrize("text", ["5", "0.5"])
    def test_number_is_not_an_object(self, text: str) -> None:
        message = rejected(text)
        assert "must be a JSON object" in message

    @pytest.mark.parametrize("text", ["5", "0.5"])
    def test_number_is_called_a_number(self, text: str) -> None:
        message = rejected(text)
        assert "a number" in message
        assert "Decimal" not in message and "int" not in message.split(":")[-1]

    def test_unknown_top_level_key(self) -> None:
        message = rejected('{"target_allocation": {"BTC": 0.5}, "polcy": {"band": 0.1}}')
        assert "'polcy'" in message
        assert "unknown top-level key" in message
        assert "target_allocation" in message and "policy" in message

    def test_target_allocation_must_be_an_object(self) -> None:
        message = rejected('{"target_allocation": [["BTC", 0.5]]}')
        assert "target_allocation" in message
        assert "an array" in message

    def test_policy_must_be_an_object(self) -> None:
        message = rejected('{"target_allocation": {"BTC": 0.5}, "policy": "edge"}')
        assert "policy" in message
        assert "must be an object" in message

    def test_policy_without_target_allocation(self) -> None:
        message = rejected('{"BTC": 0.5, "policy": {"band": 0.1}}')
        assert "policy" in message
        assert "target_allocation" in message

    @pytest.mark.parametrize("text", ["{}", '{"target_allocation": {}}'])
    def test_no_weights(self, text: str) -> None:
        message = rejected(text)
        assert "no weights" in message
        assert "USDC" in message  # tells how to hold only cash

    @pytest.mark.parametrize("name", ["", " BTC", "BTC ", "  "])
    def test_blank_or_padded_coin_names(self, name: str) -> None:
        message = rejected(json.dumps({name: 0.5}))
        assert "coin names" in message


class TestDuplicateKeys:
    def test_duplicate_weight_bare(self) -> None:
        message = rejected('{"BTC": 0.4, "ETH": 0.3, "BTC": 0.1}')
        assert "'BTC'" in message
        assert "more than once" in message

    def test_duplicate_in_target_allocation(self) -> None:
        message = rejected('{"target_allocation": {"ETH": 0.3, "ETH": 0.4, "USDC": 0.3}}')
        assert "'ETH'" in message
        assert "more than once" in message

    def test_duplicate_top_level(self) -> None:
        message = rejected('{"target_allocation": {"BTC": 0.5}, "target_allocation": {"ETH": 0.5}}')
        assert "'target_allocation'" in message
        assert "more than once" in message

    def test_duplicate_in_policy(self) -> None:
        message = rejected('{"target_allocation": {"BTC": 0.5}, "policy": {"band": 0.01, "band": 0.2}}')
        assert "'band'" in message
        assert "more than once" in message

    def test_case_variants_are_not_duplicates(self) -> None:
        t = parse_targets('{"BTC": 0.1, "btc": 0.1}', SRC)
        assert set(t.weights) == {"BTC", "btc"}


# --------------------------------------------------------------------------- rejections: weights


class TestWeightErrors:
    @pytest.mark.parametrize(
        ("raw", "kind"),
        [
            ('"0.5"', "a string"),
            ("true", "a boolean"),
            ("false", "a boolean"),
            ("null", "null"),
            ("[0.5]", "an array"),
            ('{"w": 0.5}', "an object"),
        ],
    )
    @pytest.mark.parametrize("structured", [False, True])
    def test_non_numeric_weight(self, raw: str, kind: str, structured: bool) -> None:
        body = '{"BTC": 0.4, "ETH": ' + raw + "}"
        text = '{"target_allocation": ' + body + "}" if structured else body
        message = rejected(text)
        assert "ETH" in message
        assert "must be a number" in message
        assert kind in message
        if structured:
            assert "target_allocation.ETH" in message

    @pytest.mark.parametrize("const", ["NaN", "Infinity", "-Infinity"])
    @pytest.mark.parametrize("structured", [False, True])
    def test_non_finite_weight(self, const: str, structured: bool) -> None:
        body = '{"BTC": 0.4, "SOL": ' + const + "}"
        text = '{"target_allocation": ' + body + "}" if structured else body
        message = rejected(text)
        assert "SOL" in message
        assert "finite" in message
        assert const in message

    def test_non_finite_cash(self) -> None:
        message = rejected('{"BTC": 0.5, "USDC": NaN}')
        assert "USDC" in message
        assert "finite" in message

    def test_sum_not_one_when_cash_given(self) -> None:
        message = rejected('{"target_allocation": {"BTC": 0.4, "ETH": 0.3, "USDC": 0.2}}')
        assert "target_allocation" in message
        assert "sum to 0.9" in message
        assert "not 1" in message
        assert "USDC" in message

    def test_sum_above_one_when_cash_given_bare(self) -> None:
        message = rejected('{"BTC": 0.5, "ETH": 0.5, "USDC": 0.5}')
        assert "sum to 1.5" in message

    @pytest.mark.parametrize("cash", ["0.3000009", "0.2999991", "0.300001", "0.299999"])
    def test_sum_within_tolerance_accepted(self, cash: str) -> None:
        t = parse_targets('{"target_allocation": {"BTC": 0.4, "ETH": 0.3, "USDC": ' + cash + "}}", SRC)
        assert t.cash == D(cash)  # kept as written, not "fixed"

    @pytest.mark.parametrize("cash", ["0.3000011", "0.2999989", "0.31"])
    def test_sum_just_outside_tolerance_refused(self, cash: str) -> None:
        message = rejected('{"target_allocation": {"BTC": 0.4, "ETH": 0.3, "USDC": ' + cash + "}}")
        assert "not 1" in message

    def test_cash_computed_when_absent(self) -> None:
        t = parse_targets('{"target_allocation": {"BTC": 0.25, "ETH": 0.25, "SOL": 0.1}}', SRC)
        assert t.cash == D("0.4")
        assert not t.cash_given

    def test_negative_weights_are_shorts(self) -> None:
        t = parse_targets('{"BTC": 0.5, "ETH": -0.3}', SRC)
        assert t.weights["ETH"] == D("-0.3")
        assert t.net == D("0.2")
        assert t.gross == D("0.8")
        assert t.cash == D("0.8")

    def test_levered_book_has_negative_cash(self) -> None:
        t = parse_targets('{"BTC": 1.2, "ETH": 0.3}', SRC)
        assert t.cash == D("-0.5")
        assert t.gross == D("1.5")

    def test_explicit_negative_cash_that_sums_to_one(self) -> None:
        t = parse_targets('{"target_allocation": {"BTC": 1.5, "USDC": -0.5}}', SRC)
        assert t.cash == D("-0.5")

    def test_market_neutral_book(self) -> None:
        t = parse_targets('{"BTC": 0.5, "ETH": -0.5}', SRC)
        assert t.net == 0
        assert t.cash == 1
        assert t.gross == 1


# --------------------------------------------------------------------------- rejections: policy


class TestPolicyErrors:
    @staticmethod
    def policy(block: str) -> str:
        return '{"target_allocation": {"BTC": 0.5}, "policy": ' + block + "}"

    @pytest.mark.parametrize(
        ("key", "suggestion"),
        [("bnad", "band"), ("trade_too", "trade_to"), ("slipage", "slippage"), ("untarget", "untargeted")],
    )
    def test_unknown_policy_key_with_suggestion(self, key: str, suggestion: str) -> None:
        message = rejected(self.policy('{"' + key + '": 0.1}'))
        assert f"policy.{key}" in message
        assert "unknown policy key" in message
        assert f"did you mean '{suggestion}'" in message

    def test_unknown_policy_key_lists_allowed(self) -> None:
        message = rejected(self.policy('{"colour": "red"}'))
        assert "policy.colour" in message
        for key in ("band", "band_relative", "trade_to", "untargeted", "min_trade_value", "slippage", "leverage"):
            assert key in message

    @pytest.mark.parametrize(
        "key",
        [
            "max_leverage",
            "max_turnover",
            "fee_rate",
            "max_order_value",
            "max_price_deviation",
            "max_slippage",
            "slippage_step",
            "max_rounds",
            "max_snapshot_age",
        ],
    )
    def test_safety_limits_refused(self, key: str) -> None:
        message = rejected(self.policy('{"' + key + '": 2}'))
        assert f"policy.{key}" in message
        assert "cannot be set in a target file" in message
        # and it says where it may be set instead
        assert f"--{key.replace('_', '-')}" in message
        assert f"HLREBAL_{key.upper()}" in message

    def test_safety_limit_refused_even_when_lowering(self) -> None:
        message = rejected(self.policy('{"max_leverage": 0.5}'))
        assert "policy.max_leverage" in message

    @pytest.mark.parametrize(
        ("block", "key", "fragment"),
        [
            ('{"band": -0.01}', "band", "greater than or equal to 0"),
            ('{"band": 1}', "band", "less than 1"),
            ('{"band": 1.5}', "band", "less than 1"),
            ('{"band_relative": 0}', "band_relative", "greater than 0"),
            ('{"band_relative": -1}', "band_relative", "greater than 0"),
            ('{"slippage": 0}', "slippage", "greater than 0"),
            ('{"slippage": 0.5}', "slippage", "less than 0.5"),
            ('{"leverage": 0}', "leverage", "greater than or equal to 1"),
            ('{"leverage": 101}', "leverage", "less than or equal to 100"),
        ],
    )
    def test_out_of_range(self, block: str, key: str, fragment: str) -> None:
        message = rejected(self.policy(block))
        assert f"policy.{key}" in message
        assert fragment in message

    @pytest.mark.parametrize(
        ("block", "key"),
        [
            ('{"band": "wide"}', "band"),
            ('{"band": true}', "band"),
            ('{"band": [0.1]}', "band"),
            ('{"slippage": {"v": 0.01}}', "slippage"),
            ('{"trade_to": "middle"}', "trade_to"),
            ('{"trade_to": 1}', "trade_to"),
            ('{"untargeted": "sell"}', "untargeted"),
            ('{"untargeted_spot": "burn"}', "untargeted_spot"),
            ('{"leverage": 2.5}', "leverage"),
            ('{"leverage": "x3"}', "leverage"),
            ('{"min_trade_value": "lots"}', "min_trade_value"),
        ],
    )
    def test_wrong_type(self, block: str, key: str) -> None:
        message = rejected(self.policy(block))
        assert f"policy.{key}" in message

    def test_trade_to_message_lists_choices(self) -> None:
        message = rejected(self.policy('{"trade_to": "middle"}'))
        assert "'target'" in message and "'edge'" in message
        assert "middle" in message

    @pytest.mark.parametrize("const", ["NaN", "Infinity", "-Infinity"])
    def test_non_finite_policy_value(self, const: str) -> None:
        message = rejected(self.policy('{"slippage": ' + const + "}"))
        assert "policy.slippage" in message
        assert "finite" in message

    def test_boolean_leverage_refused(self) -> None:
        message = rejected(self.policy('{"leverage": true}'))
        assert "policy.leverage" in message

    @pytest.mark.parametrize("value", ["5", "0", "-10"])
    def test_min_trade_value_below_exchange_minimum_refused(self, value: str) -> None:
        message = rejected(self.policy('{"min_trade_value": ' + value + "}"))
        assert "policy.min_trade_value" in message
        assert "10" in message

    @pytest.mark.parametrize("key", ["band", "trade_to", "slippage", "min_trade_value"])
    def test_null_for_a_required_preference_refused(self, key: str) -> None:
        message = rejected(self.policy('{"' + key + '": null}'))
        assert f"policy.{key}" in message

    def test_null_leverage_and_band_relative_mean_unset(self) -> None:
        t = parse_targets(self.policy('{"leverage": null, "band_relative": null}'), SRC)
        assert t.policy.get("leverage") is None
        assert t.policy.get("band_relative") is None

    @pytest.mark.parametrize(
        ("block", "expected"),
        [
            ('{"band": 0}', {"band": D(0)}),
            ('{"band": 0.99}', {"band": D("0.99")}),
            ('{"trade_to": "target"}', {"trade_to": "target"}),
            (
                '{"untargeted": "close", "untargeted_spot": "close"}',
                {"untargeted": "close", "untargeted_spot": "close"},
            ),
            ('{"leverage": 1}', {"leverage": 1}),
            ('{"leverage": 100}', {"leverage": 100}),
            ('{"min_trade_value": 10}', {"min_trade_value": D(10)}),
            ('{"slippage": 0.0001}', {"slippage": D("0.0001")}),
        ],
    )
    def test_boundary_values_accepted(self, block: str, expected: dict) -> None:
        assert parse_targets(self.policy(block), SRC).policy == expected


# --------------------------------------------------------------------------- market checks


class TestUniverse:
    @pytest.mark.parametrize(
        ("coin", "suggestion"),
        [("btc", "'BTC'"), ("kpepe", "'kPEPE'"), ("KPEPE", "'kPEPE'"), ("ETHH", "'ETH'"), ("Sol", "'SOL'")],
    )
    def test_unknown_coin_with_suggestion(self, coin: str, suggestion: str) -> None:
        t = parse_targets(json.dumps({"BTC": 0.1, coin: 0.2}), SRC)
        message = universe_error(t)
        assert SRC in message
        assert coin in message
        assert "not traded" in message
        assert suggestion in message

    def test_case_mismatch_says_names_are_case_sensitive(self) -> None:
        message = universe_error(parse_targets('{"eth": 0.5}', SRC))
        assert "case-sensitive" in message
        assert "'ETH'" in message

    def test_unknown_coin_without_any_close_match(self) -> None:
        message = universe_error(parse_targets('{"QQQQQQQQ": 0.5}', SRC))
        assert "QQQQQQQQ" in message
        assert "not traded" in message

    def test_names_are_case_sensitive_exact_names_pass(self) -> None:
        t = parse_targets('{"BTC": 0.3, "kPEPE": 0.1, "ETH": -0.2}', SRC)
        check_universe(t, UNIVERSE)

    def test_cash_is_never_checked_against_the_universe(self) -> None:
        t = parse_targets('{"BTC": 0.5, "USDC": 0.5}', SRC)
        check_universe(t, ["BTC"])

    def test_known_accepts_any_iterable(self) -> None:
        t = parse_targets('{"BTC": 0.5}', SRC)
        check_universe(t, {"BTC": object()})  # e.g. snapshot.assets, a dict
        check_universe(t, (c for c in ["BTC"]))

    def test_delisted_with_nonzero_weight_refused(self) -> None:
        t = parse_targets('{"BTC": 0.5, "ATOM": 0.1}', SRC)
        message = universe_error(t, delisted=["ATOM"])
        assert "ATOM" in message
        assert "delisted" in message
        assert "0" in message

    def test_delisted_short_refused(self) -> None:
        t = parse_targets('{"ATOM": -0.1}', SRC)
        assert "delisted" in universe_error(t, delisted=["ATOM"])

    def test_delisted_with_zero_weight_allowed(self) -> None:
        t = parse_targets('{"BTC": 0.5, "ATOM": 0}', SRC)
        check_universe(t, UNIVERSE, ["ATOM"])
        t = parse_targets('{"BTC": 0.5, "ATOM": 0.0}', SRC)
        check_universe(t, UNIVERSE, ["ATOM"])


class TestGross:
    def test_gross_above_max_leverage_refused(self) -> None:
        t = parse_targets('{"BTC": 0.8, "ETH": -0.5}', SRC)
        with pytest.raises(TargetFileError) as info:
            check_gross(t, D(1))
        assert info.value.exit_code == 2
        message = str(info.value)
        assert SRC in message
        assert "gross exposure 1.3" in message
        assert "max_leverage 1" in message
        assert "--max-leverage" in message

    def test_gross_equal_to_max_leverage_accepted(self) -> None:
        t = parse_targets('{"BTC": 0.6, "ETH": -0.4}', SRC)
        check_gross(t, D(1))

    def test_gross_within_a_higher_limit(self) -> None:
        t = parse_targets('{"BTC": 1.5, "ETH": 0.5}', SRC)
        check_gross(t, D(2))
        with pytest.raises(TargetFileError):
            check_gross(t, D("1.99"))

    def test_cash_does_not_count_toward_gross(self) -> None:
        t = parse_targets('{"target_allocation": {"USDC": 1}}', SRC)
        check_gross(t, D("0.01"))


# --------------------------------------------------------------------------- loading files


class TestLoad:
    def test_missing_file(self, tmp_path: Path) -> None:
        path = tmp_path / "nope.json"
        with pytest.raises(TargetFileError) as info:
            load_targets(path)
        assert info.value.exit_code == 2
        assert str(path) in str(info.value)
        assert "no such target file" in str(info.value)

    def test_directory(self, tmp_path: Path) -> None:
        with pytest.raises(TargetFileError) as info:
            load_targets(tmp_path)
        assert info.value.exit_code == 2
        assert str(tmp_path) in str(info.value)
        assert "directory" in str(info.value)

    def test_non_utf8_bytes(self, tmp_path: Path) -> None:
        path = tmp_path / "latin1.json"
        path.write_bytes('{"BTC": 0.5, "ÉTH": 0.1}'.encode("latin-1"))
        with pytest.raises(TargetFileError) as info:
            load_targets(path)
        assert info.value.exit_code == 2
        assert str(path) in str(info.value)
        assert "UTF-8" in str(info.value)

    def test_utf8_bom_is_accepted(self, tmp_path: Path) -> None:
        path = tmp_path / "bom.json"
        path.write_bytes(b"\xef\xbb\xbf" + b'{"BTC": 0.4, "ETH": 0.3}')
        t = load_targets(path)
        assert t.weights == {"BTC": D("0.4"), "ETH": D("0.3")}

    def test_empty_file(self, tmp_path: Path) -> None:
        path = tmp_path / "empty.json"
        path.write_text("")
        with pytest.raises(TargetFileError) as info:
            load_targets(path)
        assert str(path) in str(info.value)
        assert "empty" in str(info.value)

    def test_errors_name_the_file_path(self, tmp_path: Path) -> None:
        path = tmp_path / "weights.json"
        path.write_text('{"BTC": "half"}')
        with pytest.raises(TargetFileError) as info:
            load_targets(path)
        assert str(path) in str(info.value)
        assert "BTC" in str(info.value)

    def test_accepts_str_path(self) -> None:
        t = load_targets(str(DATA / "bare.json"))
        assert t.source == str(DATA / "bare.json")

    def test_sha256_is_the_files_hash(self) -> None:
        path = DATA / "with_policy.json"
        t = load_targets(path)
        assert t.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert len(t.sha256) == 64

    def test_sha256_changes_with_content(self, tmp_path: Path) -> None:
        a = tmp_path / "a.json"
        b = tmp_path / "b.json"
        a.write_text('{"BTC": 0.5}')
        b.write_text('{"BTC": 0.5 }')
        assert load_targets(a).sha256 != load_targets(b).sha256
        assert load_targets(a).sha256 == parse_targets('{"BTC": 0.5}', "other").sha256


class TestWeightsFromMapping:
    def test_same_rules_as_a_file(self) -> None:
        t = weights_from_mapping({"BTC": 0.1, "ETH": Decimal("0.2"), "USDC": 0.7})
        assert t.weights == {"BTC": D("0.1"), "ETH": D("0.2")}
        assert t.cash == D("0.7")

    def test_rejects_bad_sums(self) -> None:
        with pytest.raises(TargetFileError):
            weights_from_mapping({"BTC": 0.5, "USDC": 0.6}, "inline")

    def test_rejects_nan(self) -> None:
        with pytest.raises(TargetFileError) as info:
            weights_from_mapping({"BTC": float("nan")}, "inline")
        assert "finite" in str(info.value)


# --------------------------------------------------------------------------- robustness


@given(st.text(max_size=80))
@settings(max_examples=150, deadline=None)
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        parse_targets(text, SRC)
    except TargetFileError as e:
        assert e.exit_code == 2
        assert SRC in str(e)


_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.decimals(min_value=-2, max_value=2, places=4, allow_nan=False),
    st.sampled_from(["x", "BTC", "edge", "keep", "NaN"]),
)
_json_value = st.recursive(
    _json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "BTC"]), inner, max_size=3),
    max_leaves=6,
)
_keys = st.sampled_from(
    ["BTC", "ETH", "USDC", "btc", "", "target_allocation", "policy", "band", "trade_to", "leverage", "max_leverage"]
)


def _dump(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dump(v) for v in value) + "]"
    return json.dumps(value)


@given(
    st.dictionaries(_keys, _json_value, max_size=4),
    st.dictionaries(_keys, _json_value, max_size=3),
    st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_arbitrary_json_objects_give_targets_or_a_target_file_error(top: dict, policy: dict, structured: bool) -> None:
    doc: dict = {"target_allocation": top, "policy": policy} if structured else top
    try:
        t = parse_targets(_dump(doc), SRC)
    except TargetFileError as e:
        assert e.exit_code == 2
        assert SRC in str(e)
        return
    assert isinstance(t, Targets)
    assert all(isinstance(w, Decimal) and w.is_finite() for w in t.weights.values())
    assert t.net + t.cash == 1 or (t.cash_given and abs(t.net + t.cash - 1) <= Decimal("1e-6"))


# --------------------------------------------------------------------------- schema


class TestSchema:
    def test_is_the_published_schema_word_for_word(self) -> None:
        # What `hlrebal schema` prints and editors validate files against changes only on purpose:
        # after a deliberate change, `hlrebal schema > tests/data/targets_schema.json`.
        published = (Path(__file__).parent / "data" / "targets_schema.json").read_text()
        assert json.dumps(schema(), indent=2) + "\n" == published

    def test_is_json_serialisable_and_json_schema_shaped(self) -> None:
        doc = schema()
        text = json.dumps(doc)
        assert json.loads(text) == doc
        assert doc["$schema"].startswith("https://json-schema.org/")
        assert "title" in doc
        assert isinstance(doc["oneOf"], list) and len(doc["oneOf"]) == 3  # structured, bare, actions

    def _branches(self) -> tuple[dict, dict]:
        structured, bare, _actions = schema()["oneOf"]
        return structured, bare

    def test_structured_shape_described(self) -> None:
        structured, _ = self._branches()
        assert structured["type"] == "object"
        assert structured["required"] == ["target_allocation"]
        assert structured["additionalProperties"] is False
        assert set(structured["properties"]) >= {"target_allocation", "policy"}
        weights = structured["properties"]["target_allocation"]
        assert weights["type"] == "object"
        assert weights["additionalProperties"] == {"type": "number"}

    def test_bare_shape_described(self) -> None:
        _, bare = self._branches()
        assert bare["type"] == "object"
        assert bare["additionalProperties"] == {"type": "number"}
        assert bare["not"] == {"anyOf": [{"required": ["target_allocation"]}, {"required": ["actions"]}]}

    def test_policy_lists_only_planning_preferences(self) -> None:
        structured, _ = self._branches()
        policy = structured["properties"]["policy"]
        props = set(policy["properties"])
        assert {"band", "band_relative", "trade_to", "untargeted", "min_trade_value", "slippage", "leverage"} <= props
        for limit in ("max_leverage", "max_turnover", "fee_rate", "max_slippage", "max_rounds"):
            assert limit not in props
        assert policy.get("additionalProperties") is False
        assert "trade_to" in json.dumps(policy) and "edge" in json.dumps(policy["properties"]["trade_to"])

    def test_schema_documents_cash_and_shorts(self) -> None:
        text = json.dumps(schema())
        assert "USDC" in text
        assert "negative" in text or "short" in text
        assert "case-sensitive" in text

    def test_every_reference_resolves(self) -> None:
        doc = schema()
        refs: list[str] = []

        def walk(node: object) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "$ref":
                        refs.append(v)
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(doc)
        for ref in refs:
            assert ref.startswith("#/"), ref
            node: object = doc
            for part in ref[2:].split("/"):
                assert isinstance(node, dict) and part in node, f"dangling $ref {ref}"
                node = node[part]


# --------------------------------------------------------------------------- the exact messages

TA = '{"target_allocation": {"BTC": 0.5}, "policy": %s}'
SUM_RULE = "when USDC is given, all weights including USDC must add up to 1 (within 0.000001)"
PERCENT = "; weights are fractions of equity: write 0.40 for 40%"
ALLOWED = "allowed: band, band_relative, leverage, min_trade_value, slippage, trade_to, untargeted, untargeted_spot"
LONG_LIST = "[" + ", ".join(["0.1"] * 12) + "]"
TWENTY_FIVE = ", ".join(f'"C{i}": 4' for i in range(24))  # 24 weights of 4: none 5 or more


class TestMessages:
    """Every refusal of a target file, word for word: what a user reads to fix the file."""

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", 'f.json: the file is empty; write e.g. {"target_allocation": {"BTC": 0.5, "USDC": 0.5}}'),
            ('{"BTC": 0.4, "BTC": 0.1}', "f.json: key 'BTC': appears more than once; each key may be given only once"),
            ("[1]", "f.json: must be a JSON object, not an array"),
            ("5", "f.json: must be a JSON object, not a number"),
            ("null", "f.json: must be a JSON object, not null"),
            ("true", "f.json: must be a JSON object, not a boolean"),
            ('"x"', "f.json: must be a JSON object, not a string"),
            (
                '{"target_allocation": {"BTC": 0.5}, "polcy": {}}',
                "f.json: key 'polcy': unknown top-level key (did you mean 'policy'?); "
                "allowed: target_allocation, policy, selected_strategy, reasoning",
            ),
            ('{"target_allocation": 5}', "f.json: target_allocation: must be an object of weights, not a number"),
            (TA % "[]", "f.json: policy: must be an object, not an array"),
            (TA % '"edge"', "f.json: policy: must be an object, not a string"),
            (
                '{"BTC": 0.5, "policy": {}}',
                'f.json: policy: a policy block needs the weights under "target_allocation"',
            ),
            ("{}", 'f.json: weights: no weights given; to hold only cash write {"USDC": 1}'),
            (
                '{"target_allocation": {}}',
                'f.json: target_allocation: no weights given; to hold only cash write {"USDC": 1}',
            ),
            ('{" BTC": 0.5}', "f.json: ' BTC': coin names must be non-empty, without surrounding spaces"),
            (
                '{"target_allocation": {"": 0.5}}',
                "f.json: target_allocation.'': coin names must be non-empty, without surrounding spaces",
            ),
            ('{"BTC\\u0007": 0.5}', "f.json: 'BTC\\x07': coin names cannot hold control or invisible characters"),
            (
                '{"target_allocation": {"BTC\\u0007": 0.5}}',
                "f.json: target_allocation.'BTC\\x07': coin names cannot hold control or invisible characters",
            ),
            ('{"BTC": NaN}', "f.json: BTC: weight must be a finite number, not NaN"),
            (
                '{"target_allocation": {"BTC": "x"}}',
                "f.json: target_allocation.BTC: weight must be a number, not a string",
            ),
            ('{"BTC": null}', "f.json: BTC: weight must be a number, not null"),
            ('{"BTC": [1]}', "f.json: BTC: weight must be a number, not an array"),
            ('{"BTC": {}}', "f.json: BTC: weight must be a number, not an object"),
            ('{"BTC": true}', "f.json: BTC: weight must be a number, not a boolean"),
            ('{"BTC": 0.4, "USDC": 0.5}', f"f.json: weights: weights sum to 0.9, not 1; {SUM_RULE}"),
            (
                '{"target_allocation": {"BTC": 0.4, "USDC": 0.5}}',
                f"f.json: target_allocation: weights sum to 0.9, not 1; {SUM_RULE}",
            ),
            # weights that look like percentages: they add up to about 100, or one is 5 or more
            ('{"BTC": 40, "USDC": 60}', f"f.json: weights: weights sum to 100, not 1; {SUM_RULE}{PERCENT}"),
            ('{"BTC": 0.4, "ETH": 5, "USDC": 0.3}', f"f.json: weights: weights sum to 5.7, not 1; {SUM_RULE}{PERCENT}"),
            ('{"BTC": 0.4, "USDC": 5}', f"f.json: weights: weights sum to 5.4, not 1; {SUM_RULE}{PERCENT}"),
            ('{"BTC": 0.4, "ETH": 4.9, "USDC": 0.3}', f"f.json: weights: weights sum to 5.6, not 1; {SUM_RULE}"),
            ("{" + TWENTY_FIVE + ', "USDC": 3}', f"f.json: weights: weights sum to 99, not 1; {SUM_RULE}{PERCENT}"),
            ("{" + TWENTY_FIVE + ', "USDC": 5}', f"f.json: weights: weights sum to 101, not 1; {SUM_RULE}{PERCENT}"),
            ("{" + TWENTY_FIVE + ', "USDC": 2}', f"f.json: weights: weights sum to 98, not 1; {SUM_RULE}"),
            (
                "{" + TWENTY_FIVE + ', "USDC": 4.1}',
                f"f.json: weights: weights sum to 100.1, not 1; {SUM_RULE}{PERCENT}",
            ),
            # the policy block
            (
                TA % '{"ban\\u0000d": 1}',
                "f.json: policy.'ban\\x00d': unknown policy key (it holds control or invisible characters)",
            ),
            (TA % '{"bnad": 0.1}', f"f.json: policy.bnad: unknown policy key (did you mean 'band'?); {ALLOWED}"),
            (TA % '{"colour": 0.1}', f"f.json: policy.colour: unknown policy key; {ALLOWED}"),
            (
                TA % '{"max_leverage": 2}',
                "f.json: policy.max_leverage: is a safety limit or exchange setting and cannot be set in a target "
                "file; set it with --max-leverage, HLREBAL_MAX_LEVERAGE or the configuration file",
            ),
            (TA % '{"band": NaN}', "f.json: policy.band: must be a finite number, not NaN"),
            (TA % '{"band": true}', "f.json: policy.band: must be a number or a word, not a boolean"),
            (TA % '{"band": null}', "f.json: policy.band: cannot be null (remove the key to use the default)"),
            (TA % '{"band": 1.5}', "f.json: policy.band: Input should be less than 1 (got 1.5)"),
            (
                TA % '{"leverage": 1000}',
                "f.json: policy.leverage: Input should be less than or equal to 100 (got 1000)",
            ),
            (
                TA % '{"trade_to": "middle"}',
                "f.json: policy.trade_to: Input should be 'target' or 'edge' (got 'middle')",
            ),
            (
                TA % ('{"trade_to": "' + "x" * 60 + '"}'),
                "f.json: policy.trade_to: Input should be 'target' or 'edge' (got '" + "x" * 39 + "…')",
            ),
            # numbers out of range, and integers longer than any id
            (
                '{"BTC": 1e16}',
                "f.json: the number 1e16 is out of range (numbers must lie between 1e-30 and 1e15, or be 0)",
            ),
            (
                '{"BTC": 1e-31}',
                "f.json: the number 1e-31 is out of range (numbers must lie between 1e-30 and 1e15, or be 0)",
            ),
            (
                '{"BTC": 1' + "0" * 30 + "}",
                "f.json: the number 10000000000000000000000… is out of range (numbers must lie between 1e-30 and "
                "1e15, or be 0)",
            ),
            (
                '{"BTC": 0.5,}',
                "f.json: invalid JSON at line 1 column 13: Expecting property name enclosed in double quotes",
            ),
        ],
    )
    def test_refusals(self, text: str, message: str) -> None:
        assert rejected(text, "f.json") == message

    def test_a_value_that_is_not_a_number_is_shown_cut_short(self) -> None:
        message = rejected(TA % ('{"band": ' + LONG_LIST + "}"), "f.json")
        assert message.startswith("f.json: policy.band: Decimal input should be an integer, float, string or Decimal")
        shown_value = message.rsplit("(got ", 1)[1].removesuffix(")")
        assert shown_value.startswith("[") and shown_value.endswith("…") and len(shown_value) == 40

    @pytest.mark.parametrize(
        "text",
        ['{"BTC": 1e15, "ETH": -1e15}', '{"BTC": 1e-30}', '{"BTC": ' + "1" * 30 + ', "ETH": -' + "1" * 30 + "}"],
    )
    def test_the_range_limits_themselves_are_accepted(self, text: str) -> None:
        parse_targets(text, "f.json")

    def test_a_file_without_a_name_is_called_targets(self) -> None:
        with pytest.raises(TargetFileError, match=r"^<targets>: must be a JSON object, not an array$"):
            parse_targets("[]")
        with pytest.raises(TargetFileError, match=r"^<inline>: weights: weights sum to 1\.1"):
            weights_from_mapping({"BTC": 0.5, "USDC": 0.6})
        assert weights_from_mapping({"BTC": 0.5}).source == "<inline>"


SPOT_ALIASES = {"HYPE/USDC": "HYPE/USDC", "@107": "HYPE/USDC", "PURR/USDC": "PURR/USDC", "UBTC/USDC": "UBTC/USDC"}
KNOWN = [*UNIVERSE, "ETHFI", "ETC", "kBONK", "KBONK", "AAA1", "AAA2", "AAA3", "AAA4", "AAA5"]


class TestMarketMessages:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                '{"ATOM": 0.1}',
                "f.json: ATOM: is delisted: it can only be closed (weight 0); remove it or set its weight to 0",
            ),
            (
                '{"ATOM": -0.1}',
                "f.json: ATOM: is delisted: it can only be closed (weight 0); remove it or set its weight to 0",
            ),
            ('{"HYPE/USDC": -0.1}', "f.json: HYPE/USDC: spot holdings cannot be negative (there are no spot shorts)"),
            (
                '{"@107": 0.1, "HYPE/USDC": 0.1}',
                "f.json: HYPE/USDC: names the same spot pair as '@107' (HYPE/USDC); give each holding once",
            ),
            (
                '{"PURR": 0.1}',
                "f.json: PURR: is not traded on this exchange (the spot token is written as a pair: 'PURR/USDC')",
            ),
            (
                '{"HYPE/USDT": 0.1}',
                "f.json: HYPE/USDT: is not traded on this exchange (did you mean 'HYPE/USDC', 'HYPE'?)",
            ),
            (
                '{"purr/usdc": 0.1}',
                "f.json: purr/usdc: is not traded on this exchange (names are case-sensitive: did you mean "
                "'PURR/USDC'?)",
            ),
            (
                '{"kbonk": 0.1}',
                "f.json: kbonk: is not traded on this exchange (names are case-sensitive: did you mean 'KBONK', "
                "'kBONK'?)",
            ),
            ('{"ETHH": 0.1}', "f.json: ETHH: is not traded on this exchange (did you mean 'ETH', 'ETHFI'?)"),
            # at most three suggestions, the closest first
            ('{"AAA": 0.1}', "f.json: AAA: is not traded on this exchange (did you mean 'AAA5', 'AAA4', 'AAA3'?)"),
            # nothing close with the case as written: the names compared without case
            ('{"kpep": 0.1}', "f.json: kpep: is not traded on this exchange (did you mean 'kPEPE'?)"),
            ('{"aa": 0.1}', "f.json: aa: is not traded on this exchange (did you mean 'AAA5', 'AAA4', 'AAA3'?)"),
            ('{"QQQQ": 0.1}', "f.json: QQQQ: is not traded on this exchange"),
            ('{"@10": 0.1}', "f.json: @10: is not traded on this exchange"),
            # every name is checked, after spot pairs too
            ('{"HYPE/USDC": 0.1, "QQQQ": 0.1}', "f.json: QQQQ: is not traded on this exchange"),
        ],
    )
    def test_universe_refusals(self, text: str, message: str) -> None:
        with pytest.raises(TargetFileError) as info:
            check_universe(parse_targets(text, "f.json"), KNOWN, ["ATOM"], SPOT_ALIASES)
        assert str(info.value) == message

    @pytest.mark.parametrize("text", ['{"HYPE/USDC": 0}', '{"HYPE/USDC": 0.5, "PURR/USDC": 0.2}', '{"@107": 1.5}'])
    def test_spot_holdings_of_zero_or_more_are_accepted(self, text: str) -> None:
        check_universe(parse_targets(text, "f.json"), KNOWN, ["ATOM"], SPOT_ALIASES)

    @pytest.mark.parametrize(
        ("text", "limit", "message"),
        [
            ('{"BTC": 0.8, "ETH": -0.5}', "1", "gross exposure 1.3 (sum of absolute weights) exceeds max_leverage 1"),
            (
                '{"BTC": 1.5, "ETH": 1.5, "USDC": -2}',
                "2.5",
                "gross exposure 3 (sum of absolute weights) exceeds max_leverage 2.5",
            ),
            ('{"BTC": 3, "ETH": 3}', "1", "gross exposure 6 (sum of absolute weights) exceeds max_leverage 1"),
        ],
    )
    def test_gross_refusals(self, text: str, limit: str, message: str) -> None:
        with pytest.raises(TargetFileError) as info:
            check_gross(parse_targets(text, "f.json"), D(limit))
        assert str(info.value) == f"f.json: target_allocation: {message}; lower the weights or raise --max-leverage"

    @pytest.mark.parametrize(
        ("text", "hint"),
        [
            ('{"BTC": 8, "ETH": -5}', True),
            ('{"BTC": 3, "ETH": 3, "USDC": -5}', True),  # the cash written counts
            ('{"BTC": 3, "ETH": 3}', False),  # the cash left over (-5) was not written
        ],
    )
    def test_gross_refusals_hint_at_percentages_written(self, text: str, hint: bool) -> None:
        with pytest.raises(TargetFileError) as info:
            check_gross(parse_targets(text, "f.json"), D(1))
        assert str(info.value).endswith(PERCENT) is hint
