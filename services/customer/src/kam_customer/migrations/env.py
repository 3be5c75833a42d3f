import kam_customer.f1models  # noqa: F401  (F1's tables, issue 14)
import kam_customer.hub.models  # noqa: F401  (its table belongs to the same metadata)
import kam_customer.recognition.models  # noqa: F401  (so do recognition's)
from kam_customer.models import Base
from kam_platform.db.alembic_env import run

run(Base.metadata)
