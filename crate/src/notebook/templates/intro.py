# %% [markdown]
# # {{ title }}
#
# {{ origin }} Every setting below comes from that run; where this script and the page differ, a comment says how.
#
# **Needs** Python 3.10 or later and {{ requirements_text }}
# (checked with {{ checked_with }}). In a notebook: `%pip install {{ requirements }}`.
#
# **One GPU or several:** `python {{ script_name }}` trains on whatever device torch finds (a GPU if there is one);
# `accelerate launch {{ script_name }}` runs the same file data-parallel on every GPU of the machine (each GPU takes
# `per_device_train_batch_size` rows a step, so the effective batch grows with the GPUs: divide it to keep the
# page's). In Jupyter, run the cells top to bottom.
#
# **Check first, without a GPU:** `LP_DRY_RUN=1 python {{ script_name }}` reads the data, makes the split and stops.
