{%- if method_name == "lora" %}
LORA = dict(
    task_type={{ task_type }},
    r={{ r }},
    lora_alpha={{ lora_alpha }},
    target_modules={{ target_modules }},
    layers_to_transform={{ layers_to_transform }},
    bias={{ bias }},
    use_rslora={{ use_rslora }},
    lora_dropout={{ lora_dropout }},
    modules_to_save={{ modules_to_save }},  # {{ modules_to_save_note }}
)
{%- endif %}
TRAINING = dict(
    learning_rate={{ learning_rate }},
    num_train_epochs={{ epochs }},
    per_device_train_batch_size={{ batch_size }},
    weight_decay={{ weight_decay }},
    max_grad_norm={{ max_grad_norm }},
    lr_scheduler_type="linear",  # linear warm-up, then linear decay to 0, as the page's schedule
    seed=SEED,
)
WARMUP_RATIO = {{ warmup_ratio }}  # share of all steps spent warming up from 0
PAGE_FIGURE = {{ page_figure }}  # PEFT's count as the page showed it for this setup
