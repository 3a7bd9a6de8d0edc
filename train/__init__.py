"""LoRA fine-tuning of micro models for maaza-rt (``python -m train.lora --help``)."""
