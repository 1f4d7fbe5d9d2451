"""`plr policy diff` and `plr policy check`: changes in words, and the exit codes an operator scripts on."""

from post_loan_review import cli
from post_loan_review.policy import load_policy
from post_loan_review.policy_diff import diff


def test_the_shipped_challenger_differs_from_the_champion_in_three_named_ways():
    changes = diff(load_policy("v1"), load_policy("v2"))
    assert "restoration step: 20 -> 25 (raised) % of the approved limit" in changes
    assert any(line.startswith("rule SPENDING_SUDDEN_STOP removed") for line in changes)
    assert any(line.startswith("rule REPAYMENT_MINIMUM_ONLY: fires when 'min_payment_only_months >= 3 and "
                               "utilisation_ratio >= 0.8'") for line in changes)
    assert diff(load_policy("v1"), load_policy("v1")) == []


def test_threshold_action_and_text_changes_are_each_told(tmp_path):
    text = load_policy("v1").path.read_text(encoding="utf-8").replace("version: v1", "version: v7")
    text = text.replace("when: score < 500", "when: score < 520").replace("  floor_yuan: 50", "  floor_yuan: 80")
    text = text.replace("    action: DECREASE_TO_FLOOR\n    severity: 95", "    action: FREEZE\n    severity: 95")
    (tmp_path / "v7.yaml").write_text(text, encoding="utf-8")
    from post_loan_review.policy import load_policy_file

    changes = diff(load_policy("v1"), load_policy_file(tmp_path / "v7.yaml"))
    assert "floor: 50 -> 80 (raised) yuan" in changes
    assert "rule SCORE_LOW: fires when 'score < 520' instead of 'score < 500'" in changes
    assert "rule SECURITY_CREDENTIAL_CHANGE: action DECREASE_TO_FLOOR -> FREEZE" in changes


def test_policy_check_exits_zero_for_a_good_file_and_one_with_the_fault_for_a_bad_one(tmp_path, capsys):
    assert cli.main(["policy", "check", "v1"]) == 0
    assert "policy v1 is valid" in capsys.readouterr().out
    bad = tmp_path / "v8.yaml"
    bad.write_text(load_policy("v1").path.read_text(encoding="utf-8").replace("version: v1", "version: v8")
                   .replace("when: score < 500", "when: marital_status == 1"), encoding="utf-8")
    assert cli.main(["policy", "check", str(bad)]) == 1
    assert "'marital_status' is a protected attribute" in capsys.readouterr().err
