"""scorers.py: shipped students found from assets/*/student.json, the default student per
dataset, and the spec prefixes that need no model file (authors:, like-share).

    .venv/bin/python -m pytest tests/test_scorers.py -q
"""
from __future__ import annotations

import json

import pytest

from reasoningrec.config import ASSETS_DIR
from reasoningrec.scoring.registry import STUDENTS, default_student, discover_students, student_options


def card(folder, **fields):
    folder.mkdir(parents=True)
    (folder / "student.json").write_text(json.dumps({"base_model": "smollm2", **fields}))


def test_shipped_students_keep_their_names():
    assert STUDENTS["student"] == ASSETS_DIR / "student"
    assert STUDENTS["student-evidence"] == ASSETS_DIR / "student_evidence"
    assert all((folder / "student.json").is_file() for folder in STUDENTS.values())
    assert default_student("no-such-dataset") == "student"


def test_discovery_names_and_default_for(tmp_path):
    card(tmp_path / "student", prompt_options={"history_k": 10})
    card(tmp_path / "student_fashion_v2", name="student-fashion", default_for=["fashion"])
    card(tmp_path / "student_ml", default_for="ml1m")
    (tmp_path / "demo_pool").mkdir()  # not a student: no student.json
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "student.json").write_text("{not json")
    found = discover_students(tmp_path)
    assert found == {"broken": tmp_path / "broken", "student": tmp_path / "student",
                     "student-fashion": tmp_path / "student_fashion_v2",
                     "student-ml": tmp_path / "student_ml"}
    assert default_student("fashion", found) == "student-fashion"
    assert default_student("ml1m", found) == "student-ml"
    assert default_student("beauty", found) == "student"


def test_two_students_with_one_name_are_refused(tmp_path):
    card(tmp_path / "a", name="student")
    card(tmp_path / "student")
    with pytest.raises(ValueError, match="two shipped students are named 'student'"):
        discover_students(tmp_path)


def test_unknown_student_name_lists_the_shipped_ones():
    with pytest.raises(ValueError, match="unknown shipped student 'studnet': student"):
        student_options("studnet")
