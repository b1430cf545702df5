"""Which Cloud Storage endpoint the worker connects to, from its environment: the conventional
STORAGE_EMULATOR_HOST first, Strand's STRAND_GCS_EMULATOR_HOST as an alias, else Google's."""

from strand_jax.gcs import EMULATOR_ENV, GOOGLE_ENDPOINT, GcsClient


def test_the_conventional_name_selects_a_local_server():
    assert GcsClient.from_env({"STORAGE_EMULATOR_HOST": "127.0.0.1:4443"}).endpoint == "http://127.0.0.1:4443"


def test_strands_own_name_is_an_alias():
    assert GcsClient.from_env({"STRAND_GCS_EMULATOR_HOST": "http://localhost:9000"}).endpoint == "http://localhost:9000"


def test_the_conventional_name_wins_when_both_are_set():
    env = {"STRAND_GCS_EMULATOR_HOST": "http://alias:1", "STORAGE_EMULATOR_HOST": "http://conventional:2"}
    assert GcsClient.from_env(env).endpoint == "http://conventional:2"


def test_google_when_neither_is_set_or_both_are_empty():
    assert GcsClient.from_env({}).endpoint == GOOGLE_ENDPOINT
    assert GcsClient.from_env(dict.fromkeys(EMULATOR_ENV, "")).endpoint == GOOGLE_ENDPOINT
