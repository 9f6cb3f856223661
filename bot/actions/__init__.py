"""Custom Rasa actions, served by the app through rasa_sdk's executor.

Actions are registered as instances so they receive their dependencies explicitly.
"""

from __future__ import annotations

from rasa_sdk.executor import ActionExecutor

from bot.actions._base import ActionDeps, TagihAction
from bot.actions.arrangements import (
    ActionAskInstallmentAgreed,
    ActionAskInstallmentCount,
    ActionAskInstallmentFirstDate,
    ActionAskPromiseAmount,
    ActionAskPromiseConfirmed,
    ActionRecordInstallmentPlan,
    ActionRecordPromise,
    ValidateInstallmentForm,
    ValidatePromiseForm,
)
from bot.actions.care import (
    ActionAffirm,
    ActionChangeLanguage,
    ActionDefaultFallback,
    ActionKeepGoing,
    ActionOpenDispute,
    ActionRecordComplaint,
    ActionRecordDistress,
    ActionRecordHardship,
    ActionRecordPaymentClaim,
    ActionRequestHuman,
    ActionStopContact,
    ValidateDisputeForm,
    ValidateHardshipForm,
    ValidatePaymentClaimForm,
)
from bot.actions.identity import ActionVerificationDone, ValidateIdentityForm
from bot.actions.info import (
    ActionAskBalance,
    ActionInform,
    ActionPaymentMethod,
    ActionReminderSent,
    ActionRequestDiscount,
    ActionSessionStart,
)

ACTION_CLASSES: tuple[type[TagihAction], ...] = (
    ActionSessionStart,
    ActionAskBalance,
    ActionInform,
    ActionAffirm,
    ActionPaymentMethod,
    ActionReminderSent,
    ValidateIdentityForm,
    ActionVerificationDone,
    ValidatePromiseForm,
    ActionAskPromiseAmount,
    ActionAskPromiseConfirmed,
    ActionRecordPromise,
    ValidateInstallmentForm,
    ActionAskInstallmentCount,
    ActionAskInstallmentFirstDate,
    ActionAskInstallmentAgreed,
    ActionRecordInstallmentPlan,
    ValidatePaymentClaimForm,
    ActionRecordPaymentClaim,
    ValidateHardshipForm,
    ActionRecordHardship,
    ValidateDisputeForm,
    ActionOpenDispute,
    ActionRequestHuman,
    ActionStopContact,
    ActionRecordComplaint,
    ActionRecordDistress,
    ActionRequestDiscount,
    ActionChangeLanguage,
    ActionKeepGoing,
    ActionDefaultFallback,
)


def build_executor(deps: ActionDeps) -> ActionExecutor:
    executor = ActionExecutor()
    for action_class in ACTION_CLASSES:
        executor.register_action(action_class(deps))
    return executor


__all__ = ["ACTION_CLASSES", "ActionDeps", "build_executor"]
