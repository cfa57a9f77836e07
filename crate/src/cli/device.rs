//! `--device cpu|wgpu`: burn's CPU backend (flex), or wgpu (Vulkan/Metal/DX12; lavapipe in tests).

use burn::tensor::Device;

pub fn parse(name: &str) -> Result<Device, String> {
    match name {
        "cpu" | "flex" => Ok(Device::flex()),
        "wgpu" => Device::wgpu_options()
            .init()
            .map_err(|e| format!("--device wgpu: no usable GPU adapter ({e}); install a Vulkan driver (mesa-vulkan-drivers) or use --device cpu")),
        other => Err(format!("--device '{other}': expected cpu or wgpu")),
    }
}
