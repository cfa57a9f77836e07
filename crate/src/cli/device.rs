//! `--device cpu|wgpu`: burn's CPU backend (flex), or wgpu (Vulkan/Metal/DX12; lavapipe in tests).

use burn::tensor::Device;

pub fn parse(name: &str) -> Result<Device, String> {
    open(name).map(|(device, _)| device)
}

/// The device and the adapter's name (what `bench` reports, so a GPU figure says which GPU made it).
pub fn open(name: &str) -> Result<(Device, String), String> {
    match name {
        "cpu" | "flex" => Ok((Device::flex(), "burn CPU backend".into())),
        "wgpu" => Device::wgpu_options()
            .init_with_setup()
            .map(|(device, setup)| {
                let info = setup.adapter.get_info();
                (device, format!("{} ({:?}, {})", info.name, info.backend, info.driver_info))
            })
            .map_err(|e| format!("--device wgpu: no usable GPU adapter ({e}); install a Vulkan driver (mesa-vulkan-drivers) or use --device cpu")),
        other => Err(format!("--device '{other}': expected cpu or wgpu")),
    }
}
