{%- if method_name != "lora" %}
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
total = sum(p.numel() for p in model.parameters())
print(f"trainable params: {trainable:,d} || all params: {total:,d} || trainable%: {100 * trainable / total:.4f}")
{%- endif %}
print("the page showed:  " + PAGE_FIGURE)
