from __future__ import annotations

import pytest

from viamlite.names import API, Model, ResourceName


def test_api_and_model_triplets() -> None:
    assert str(API.parse("rdk:component:servo")) == "rdk:component:servo"
    assert Model.parse("fake") == Model("rdk", "builtin", "fake")
    assert Model.parse("acme:motors:stepper").short == "acme:motors:stepper"
    assert Model.parse("rdk:builtin:fake").short == "fake"
    assert ResourceName(API.component("servo"), "s1", remote="r1").full_name == "r1:s1"
    with pytest.raises(ValueError, match="three colon-separated"):
        API.parse("rdk:servo")
    with pytest.raises(ValueError, match="three colon-separated"):
        Model.parse("a::b")
