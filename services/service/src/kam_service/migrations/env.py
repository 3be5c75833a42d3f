# the tables of the models package's own modules (issue 12) belong to the same metadata
import kam_service.models.assignment
import kam_service.models.care
import kam_service.models.cs10000
import kam_service.models.documents
import kam_service.models.hub  # noqa: F401
from kam_platform.db.alembic_env import run
from kam_service.models import Base

run(Base.metadata)
