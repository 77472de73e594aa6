from django.apps import AppConfig

from catalog.display.slots import ToolPageSlot


class PlannerConfig(AppConfig):
    name = "planner"
    verbose_name = "Planner and runs"
    # What the planner shows on a tool's page (see catalog.display.slots).
    tool_page_slots = (ToolPageSlot("planner:try_it_button", "actions", "Try it"),)
