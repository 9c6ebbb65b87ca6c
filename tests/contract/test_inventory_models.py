"""The response models of the OpenAPI document describe the inventories the views render.

The models in ``app.zstack.schemas`` are a second description of each inventory, kept because they
carry the documentation page's field descriptions; this holds each one to its inventory view.
"""

from __future__ import annotations

from typing import get_args, get_origin

import pytest
from pydantic import BaseModel

from app.zstack import inventories, schemas
from app.zstack.inventories import InventoryView

MODELS: dict[str, type[BaseModel]] = {
    inventories.IMAGE.java_class: schemas.ImageInventory,
    inventories.IMAGE_BACKUP_STORAGE_REF.java_class: schemas.ImageBackupStorageRefInventory,
    inventories.VOLUME_BACKUP.java_class: schemas.VolumeBackupInventory,
    inventories.VOLUME_BACKUP_STORAGE_REF.java_class: schemas.VolumeBackupStorageRefInventory,
    inventories.IMAGE_STORE_BACKUP_STORAGE.java_class: schemas.BackupStorageInventory,
    inventories.SESSION.java_class: schemas.SessionInventory,
    inventories.TAG_PATTERN.java_class: schemas.TagPatternInventory,
}
#: Rendered only by the control API, which the OpenAPI document describes without a model.
WITHOUT_MODEL = {inventories.ACCOUNT.java_class}

VIEWS = [value for value in vars(inventories).values() if isinstance(value, InventoryView)]


def test_every_view_has_a_model_or_is_known_to_have_none() -> None:
    assert {view.java_class for view in VIEWS} == set(MODELS) | WITHOUT_MODEL


@pytest.mark.parametrize("view", [v for v in VIEWS if v.java_class in MODELS], ids=lambda v: v.java_class)
def test_model_has_the_views_fields_optional_exactly_where_the_json_may_lack_them(view: InventoryView) -> None:
    model = MODELS[view.java_class]
    assert set(model.model_fields) == set(view.fields) | set(view.children)
    for name, field in view.fields.items():
        assert model.model_fields[name].is_required() is not field.optional, (
            f"{model.__name__}.{name}: {'optional' if field.optional else 'always present'} in the JSON"
        )
    for name, child in view.children.items():
        assert model.model_fields[name].is_required(), f"{model.__name__}.{name}: lists are always present"
        annotation = model.model_fields[name].annotation
        assert get_origin(annotation) is list
        assert get_args(annotation) == (MODELS[child.view.java_class],)
