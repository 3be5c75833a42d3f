"""The F1 tables (issue 14), imported together so the metadata (alembic, tests) holds them all."""

from kam_customer.competitor.models import CompetitorPresence
from kam_customer.decision.models import ContactRelation
from kam_customer.duplicates.models import DuplicateCandidate
from kam_customer.merge.models import CustomerMerge
from kam_customer.merge_proposal.models import MergeProposal, MergeProposalResponse
from kam_customer.needs.models import NeedsProfile
from kam_customer.verification.models import CustomerVerification

__all__ = [
    "CompetitorPresence",
    "ContactRelation",
    "CustomerMerge",
    "CustomerVerification",
    "DuplicateCandidate",
    "MergeProposal",
    "MergeProposalResponse",
    "NeedsProfile",
]
