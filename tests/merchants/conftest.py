import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Staff users are made in nearly every test here; the real hasher costs ~0.4 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
