//! Inside an adapter: the evidence for LoRA's premise that the update a task needs has low intrinsic rank,
//! measured on the student's own adapter (Hu et al. 2021, sections 7 and 8). Pure arithmetic on tensors already
//! read to the host, so the CLI (`inspect`), the page and the tests share it; `burn-linalg` does the SVDs.

pub mod linalg;
pub mod report;
