# The incentives lane's fixtures (a world of cities, a merchant, its clerk, a resident).
from tests.incentives.conftest import clerk, merchant, resident, world  # noqa: F401
from tests.incentives.test_incidents import lane  # noqa: F401
