//! Reading values back from the device. `into_data_async` is the only readback WebGPU allows in a browser, so
//! every read is async; natively `futures_lite::future::block_on` drives the same code. A leaf: the model's
//! scoring and generation read back through here, and the trainer (`train::readback`) too.

use burn::tensor::kind::Basic;
use burn::tensor::{Tensor, TensorData};

use crate::error::Error;

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
