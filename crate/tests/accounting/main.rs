//! The calculator's figures against PEFT's own counts, checkpoint sizes and the memory the trainer checks.
//! One test binary per area (each links burn once); a file per subject inside it.

mod budget;
mod checkpoint_reference;
mod lesson;
mod methods_reference;
mod peft_reference;
mod report;
