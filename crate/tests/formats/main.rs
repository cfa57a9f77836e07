//! Files from outside: bad input of every kind, and adapters PEFT wrote.
//! One test binary per area (each links burn once); a file per subject inside it.

mod bad_input;
mod gguf;
mod lm_input;
mod nf4;
mod peft_written;
