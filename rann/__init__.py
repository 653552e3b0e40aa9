"""RANN models (registry in timm's style) and their training recipe.

import rann
model = rann.create_model("rann_4_6", num_classes=50)       # or "RANN-8x4-6"
rann.list_models("rann_*")
"""

from rann import models  # noqa: F401  (imports every model module, which registers its models)
from rann._registry import create_model, list_models, register_model

__all__ = ["create_model", "list_models", "register_model"]
