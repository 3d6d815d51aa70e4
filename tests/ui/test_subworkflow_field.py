"""A sub-workflow is chosen from the saved workflows and checked while editing; a name that
does not exist at run time fails the step in a user's words."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from flowdesk.document.commands import AddItemsCommand
from flowdesk.model import RunStatus, Workflow


def test_the_workflow_is_chosen_from_a_list_and_checked(window, qtbot) -> None:
    window.library.store.save_workflow(Workflow(name="Probe flow"), new_version=True)
    window.new_workflow()
    window.doc.undo_stack.push(AddItemsCommand(window.doc, [
        {"id": "sub", "type": "workflow", "position": {"x": 0, "y": 0},
         "data": {"config": {"workflow": "Probe flo"}}}], [], "Add"))
    qtbot.waitUntil(lambda: any(p.code == "unknown_workflow" and p.field == "workflow"
                                for p in window.doc.problems_for_node("sub")))
    window.scene.select_nodes(["sub"])
    combo = window.inspector.fields["workflow"]
    assert isinstance(combo, QComboBox) and combo.isEditable()
    names = [combo.itemText(i) for i in range(combo.count())]
    assert "Probe flow" in names
    assert combo.currentText() == "Probe flo"
    assert "no saved workflow named 'Probe flo'" in window.inspector.errors["workflow"].text()
    combo.textActivated.emit("Probe flow")  # picked from the list
    assert window.doc.node("sub").data.config["workflow"] == "Probe flow"
    qtbot.waitUntil(lambda: not window.doc.problems_for_node("sub"))
    window.menus.act_undo.trigger()
    assert combo.currentText() == "Probe flo"
    window.menus.act_redo.trigger()
    window.library.delete("Probe flow")  # the list of saved workflows changed
    qtbot.waitUntil(lambda: any(p.code == "unknown_workflow"
                                for p in window.doc.problems_for_node("sub")))


async def test_a_missing_sub_workflow_is_a_step_error_in_plain_words(engine) -> None:
    workflow = Workflow.model_validate({"name": "parent", "nodes": [
        {"id": "sub", "type": "workflow", "data": {"config": {"workflow": "Probe flo"}}}]})
    run = await engine.run(workflow)
    assert run.status is RunStatus.FAILED
    error = run.steps["sub"].error
    assert "there is no saved workflow named 'Probe flo'" in error
    assert "internal error" not in error and "NotFound" not in error
