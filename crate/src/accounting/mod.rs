//! The calculator: exact PEFT accounting for real architectures, pure arithmetic on `config.json` (no tensors).
//! What the page and `lora-playground count` show comes from `report::compute`.

pub mod arch;
pub mod checkpoint;
pub mod count;
pub mod inject;
pub mod lora_config;
pub mod memory;
pub mod method_costs;
pub mod module_table;
pub mod path;
pub mod presets;
pub mod report;
pub mod targets;
