"""The Spark session linkage runs on: Splink's similarity functions on it, small shuffles on local, one per process,
and a clear refusal where Java is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linkage.spark import java_missing, spark_session
from schemas.errors import LinkageError


@pytest.mark.spark
def test_the_session_has_splinks_similarity_functions_and_local_settings(spark: Any, tmp_path: Path) -> None:
    assert spark.conf.get("spark.sql.shuffle.partitions") == "4" and spark.conf.get("spark.sql.session.timeZone") == "UTC"
    [(similarity, distance)] = spark.sql("SELECT jaro_winkler('zhang wei', 'zhang wie'), damerau_levenshtein('ab', 'ba')").collect()
    assert round(similarity, 4) == 0.9778 and distance == 1
    assert spark_session("local[2]", {}, tmp_path) is spark  # one per process: the running one
    with pytest.raises(LinkageError, match="already running"):
        spark_session("spark://elsewhere:7077", {}, tmp_path)


def test_without_java_spark_is_refused_saying_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert java_missing() == "Spark needs Java (17): no `java` on PATH and no JAVA_HOME"
    with pytest.raises(LinkageError, match="needs Java"):
        spark_session("local[2]", {}, tmp_path)
