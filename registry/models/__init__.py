"""The registry's tables. Import models from here."""

from registry.models.access import TRANSITIONS, AccessGrant, GrantState
from registry.models.admin_token import AdminToken, Role
from registry.models.agency import Agency
from registry.models.analytics import GRANULARITIES, RollupState, UsageRollup
from registry.models.api import AccessLevel, Api, ApiVersion, VersionStatus
from registry.models.audit import AuditEvent
from registry.models.base import Base, utcnow
from registry.models.developer import Application, Credential, Developer
from registry.models.gateway_config import GatewayConfig
from registry.models.health import HealthSample
from registry.models.identity import ExternalIdentity
from registry.models.membership import AgencyMembership, MemberRole
from registry.models.personal_data import OUTCOMES, PersonalDataAccess
from registry.models.plan import PERIODS, Plan
from registry.models.portal_session import PortalSession
from registry.models.usage import UsageRecord

__all__ = [
    "GRANULARITIES",
    "OUTCOMES",
    "PERIODS",
    "TRANSITIONS",
    "AccessGrant",
    "AccessLevel",
    "AdminToken",
    "Agency",
    "AgencyMembership",
    "Api",
    "ApiVersion",
    "Application",
    "AuditEvent",
    "Base",
    "Credential",
    "Developer",
    "ExternalIdentity",
    "GatewayConfig",
    "GrantState",
    "HealthSample",
    "MemberRole",
    "PersonalDataAccess",
    "Plan",
    "PortalSession",
    "Role",
    "RollupState",
    "UsageRecord",
    "UsageRollup",
    "VersionStatus",
    "utcnow",
]
