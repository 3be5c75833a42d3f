import kam_customer.f1models  # F1 tables (issue 14) belong to the same metadata
import kam_customer.hub.models  # its table belongs to the same metadata
import kam_customer.recognition.models  # noqa: F401  (so do recognition's)
from kam_customer.models import Base
from kam_platform.db.alembic_env import run

run(Base.metadata)
