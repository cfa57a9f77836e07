//! Reading values back from the device. `into_data_async` is the only readback WebGPU allows in a browser, so
//! every read here is async; natively `futures_lite::future::block_on` drives the same code.

use crate::error::Error;
use crate::model::auto::AutoModelForSequenceClassification;
use crate::model::export::{self, NamedTensors, TorchParam};
use crate::model::load::Overrides;
pub use crate::readback::{read_data, read_floats, read_scalar};

/// `params` read back to the host, one at a time, by name.
pub async fn read_params(params: impl IntoIterator<Item = TorchParam>) -> Result<NamedTensors, Error> {
    let mut out = NamedTensors::new();
    for p in params {
        let values = read_floats(p.values).await?;
        out.insert(p.name, (values, p.shape, p.trains));
    }
    Ok(out)
}

/// Every float parameter of `model` by Hugging Face name, torch layout.
pub async fn read_named_tensors(model: &AutoModelForSequenceClassification) -> Result<NamedTensors, Error> {
    read_params(export::torch_params(model)).await
}

/// Every trainable parameter by Hugging Face name in torch layout (`[out, in]` linear weights).
pub async fn trainable_tensors(model: &AutoModelForSequenceClassification) -> Result<Overrides, Error> {
    let read = read_params(export::torch_params(model).into_iter().filter(|p| p.trains)).await?;
    Ok(read.into_iter().map(|(name, (values, shape, _))| (name, (values, shape))).collect())
}
