"""Panels other apps add to a SKU's page, without skus importing them: an app registers
a provider in its ``AppConfig.ready`` and ``sku_detail`` shows what each one returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .models import Sku


@dataclass(frozen=True)
class SkuPanel:
    """A block of the SKU page: ``template`` is included with ``panel`` (this) only."""

    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)


SkuPanelProvider = Callable[[Sku], SkuPanel | None]

# The providers, in the order they were registered; a provider returns None to show nothing.
SKU_PANELS: list[SkuPanelProvider] = []


def sku_panel_register(provider: SkuPanelProvider) -> SkuPanelProvider:
    """Add a provider once (``ready`` may run more than once); usable as a decorator."""
    if provider not in SKU_PANELS:
        SKU_PANELS.append(provider)
    return provider


def sku_panels(sku: Sku) -> list[SkuPanel]:
    """The panels every registered provider gives for ``sku``."""
    return [panel for provider in SKU_PANELS if (panel := provider(sku)) is not None]
