"""Base-model resolution and construction (pipeline/train/model.py)."""

import pytest

from pipeline.config import PACKAGED_MODEL
from pipeline.errors import ModelError
from pipeline.train.model import build_model, load_tokenizer, packaged_model_path, resolve_model

ID2LABEL = {0: "none", 1: "favor", 2: "against"}


def test_packaged_name_resolves_to_the_wheel_folder():
    try:
        folder = packaged_model_path()
    except ModelError as e:
        pytest.skip(f"the packaged model is not installed here: {e}")
    assert resolve_model(PACKAGED_MODEL) == str(folder)
    assert (folder / "config.json").is_file()


def test_existing_folder_is_used_as_is(tiny_model):
    assert resolve_model(str(tiny_model)) == str(tiny_model)


def test_existing_folder_without_config_is_refused(tmp_path):
    with pytest.raises(ModelError, match=r"train.model: .* has no config.json; point it at a folder written by"):
        resolve_model(str(tmp_path))


def test_missing_path_is_an_error_naming_the_key():
    """Which strings read as paths is test_resolve_model.py's; here, that the error names the config key given."""
    with pytest.raises(ModelError, match=r"^evaluate.model: model path /no/such/model does not exist"):
        resolve_model("/no/such/model", where="evaluate.model")


def test_empty_name_is_an_error():
    with pytest.raises(ModelError, match="train.model: model path .* does not exist"):
        resolve_model("  ")


def test_tiny_config_builds_a_random_model_of_that_shape(tiny_model):
    tiny = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32}
    model = build_model(str(tiny_model), 3, ID2LABEL, tiny)
    cfg = model.config
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size) == (16, 1, 32)
    assert cfg.num_labels == 3 and cfg.id2label == ID2LABEL and cfg.label2id == {v: k for k, v in ID2LABEL.items()}
    assert model.classifier.out_features == 3


def test_unknown_tiny_key_is_refused(tiny_model):
    with pytest.raises(ModelError, match=r"train.tiny.hidden_sise: not a field of BertConfig; remove it"):
        build_model(str(tiny_model), 3, ID2LABEL, {"hidden_sise": 16})


def test_checkpoint_head_is_resized_to_the_slots(tiny_model):
    model = build_model(str(tiny_model), 4, {**ID2LABEL, 3: "extra"})
    assert model.config.num_labels == 4 and model.classifier.out_features == 4


def test_unloadable_model_and_tokenizer_name_the_key(tmp_path):
    (tmp_path / "config.json").write_text("{}")  # resolves, but holds nothing to load
    with pytest.raises(ModelError, match=r"train.model: cannot load a tokenizer from"):
        load_tokenizer(str(tmp_path))
    with pytest.raises(ModelError, match=r"train.model: cannot load model"):
        build_model(str(tmp_path), 3, ID2LABEL)
