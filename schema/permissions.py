"""Which operation each root field performs: the table a test walks, so a new field without a rule fails."""

from __future__ import annotations

import strawberry

from auth.permission import Operation
from auth.principal import Principal
from hub.errors import HubError
from hub.permissions import require
from schema.context import HubContext
from schema.errors import UNAUTHENTICATED, ClientError

# Empty: any authenticated caller (the field shows only the caller's own data).
FIELD_OPERATIONS: dict[str, tuple[Operation, ...]] = {
    "Query.me": (),
    "Query.case": (Operation.CASE_READ,),
    "Query.cases": (Operation.CASE_READ,),
    "Query.departments": (Operation.DEPARTMENT_READ,),
    "Query.verifyTrail": (Operation.TRAIL_VERIFY,),
    "Query.readLog": (Operation.READLOG_READ,),
    "Query.trail": (Operation.TRAIL_READ,),
    "Query.supervisionOrders": (Operation.CASE_READ,),
    "Query.escalations": (Operation.ESCALATIONS_READ,),
    "Query.connectors": (Operation.CONNECTOR_READ,),
    "Query.duplicateSuggestions": (Operation.DUPLICATES_READ,),
    "Query.stats": (Operation.STATS_READ,),
    "Query.hotTopics": (Operation.STATS_READ,),
    "Mutation.respondSupervision": (Operation.SUPERVISION_RESPOND,),
    "Mutation.submitCase": (Operation.CASE_SUBMIT,),
    "Mutation.dispatchCase": (Operation.CASE_DISPATCH,),
    "Mutation.claimCase": (Operation.CASE_CLAIM,),
    "Mutation.returnCase": (Operation.CASE_RETURN,),
    "Mutation.answerCase": (Operation.CASE_ANSWER, Operation.CASE_ANSWER_DIRECT),
    "Mutation.requestExtension": (Operation.EXTENSION_REQUEST,),
    "Mutation.decideExtension": (Operation.EXTENSION_DECIDE,),
    "Mutation.superviseCase": (Operation.CASE_SUPERVISE,),
    "Mutation.recordCallback": (Operation.CALLBACK_RECORD,),
    "Mutation.closeCase": (Operation.CASE_CLOSE,),
    "Mutation.mergeCases": (Operation.CASE_MERGE,),
    "Mutation.addNote": (Operation.CASE_NOTE,),
    "Mutation.resendReply": (Operation.REPLY_RESEND,),
    "Subscription.caseEvents": (Operation.EVENTS_SUBSCRIBE,),
}


def principal_of(info: strawberry.Info[HubContext, None]) -> Principal:
    """The authenticated caller, or an UNAUTHENTICATED error."""
    principal = info.context.principal
    if principal is None:
        raise ClientError("a bearer token is required", UNAUTHENTICATED)
    return principal


def require_operation(principal: Principal, operation: Operation) -> None:
    """The permission check for fields with no service behind them, as a client error."""
    try:
        require(principal, operation)
    except HubError as exc:
        raise ClientError(exc.message, exc.code) from None
