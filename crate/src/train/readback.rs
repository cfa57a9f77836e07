//! Reading values back from the device. `into_data_async` is the only readback WebGPU allows in a browser, so
//! every read here is async; natively `futures_lite::future::block_on` drives the same code.

use burn::tensor::kind::Basic;
use burn::tensor::{Tensor, TensorData};

use crate::error::Error;
use crate::model::auto::AutoModelForSequenceClassification;
use crate::model::export::{self, NamedTensors, TorchParam};
use crate::model::load::Overrides;

/// A tensor's data, with a failed read as a lost device: the device did not hand back what it computed (a lost or
/// reset GPU fails here first; the same work can go on on another device).
pub async fn read_data<const D: usize, K: Basic>(t: Tensor<D, K>) -> Result<TensorData, Error> {
    t.into_data_async().await.map_err(|e| Error::device_lost(format!("reading a result failed: {e}")))
}

/// A float tensor's values.
pub async fn read_floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, Error> {
    read_data(t).await?.convert::<f32>().try_to_vec::<f32>().map_err(|e| Error::internal("readback", format!("{e:?}")))
}

/// A one-element tensor's value.
pub async fn read_scalar(t: Tensor<1>) -> Result<f64, Error> {
    read_floats(t).await?.first().map(|&x| x as f64).ok_or_else(|| Error::internal("readback", "an empty result"))
}

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
