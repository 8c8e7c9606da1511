//! Typed request/response pairs, one per API operation.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Product;
use super::params::{Params, ParamsError, to_params};

/// `PagedOperation` for a request with `page_number`/`page_size` fields and a response with
/// `total_count` and a list field: `paged_operation!(Request => Item, response.list_field, max)`.
macro_rules! paged_operation {
    ($request:ty => $item:ty, $list:ident, $max:expr) => {
        impl $crate::protocol::ops::PagedOperation for $request {
            type Item = $item;
            const MAX_PAGE_SIZE: u32 = $max;

            fn set_page(&mut self, number: u32, size: u32) {
                self.page_number = Some(number);
                self.page_size = Some(size);
            }

            fn into_page(
                response: <Self as $crate::protocol::ops::RpcOperation>::Response,
            ) -> $crate::protocol::ops::Page<$item> {
                $crate::protocol::ops::Page { total_count: response.total_count, items: response.$list }
            }
        }
    };
}

pub mod ecs;
pub mod ehpc;
pub mod ens;
pub mod sts;

/// One RPC operation: its request type serializes to wire parameters via
/// [`to_params`]; its response is decoded from JSON.
pub trait RpcOperation: Serialize + Send + Sync {
    const PRODUCT: Product;
    const ACTION: &'static str;
    type Response: DeserializeOwned + Send + 'static;

    /// The region whose endpoint serves this call (ENS is global: `None`).
    fn region_id(&self) -> Option<&str> {
        None
    }

    /// Creating operations (import/create/copy) carry a `ClientToken`; the client fills an empty
    /// one before the first attempt and reuses it for every retry.
    fn client_token_mut(&mut self) -> Option<&mut Option<String>> {
        None
    }

    /// The error code a repeat of this call answers when an earlier attempt, whose answer was
    /// lost in transit, already did the work (DeleteImage: the image is gone). After a lost
    /// answer, such a repeat counts as success instead of a failure.
    fn done_if_repeat_answers(&self) -> Option<&'static str> {
        None
    }

    fn to_params(&self) -> Result<Params, ParamsError> {
        to_params(self)
    }
}

/// One page of a paged list.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub total_count: u64,
    pub items: Vec<T>,
}

/// A list operation that can be read page by page (`PageNumber` from 1, `PageSize`).
pub trait PagedOperation: RpcOperation + Clone {
    type Item: Send + 'static;
    /// Largest page the API accepts (ECS 100, ENS 50, E-HPC Instant 100).
    const MAX_PAGE_SIZE: u32;
    fn set_page(&mut self, number: u32, size: u32);
    fn into_page(response: Self::Response) -> Page<Self::Item>;
}

/// Helpers shared by the operation modules' tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::RpcOperation;

    /// A request's wire parameters, sorted, for whole-list comparisons.
    pub(crate) fn sorted(request: &impl RpcOperation) -> Vec<(String, String)> {
        let mut params = request.to_params().unwrap().into_vec();
        params.sort();
        params
    }

    /// Expected parameters, sorted the same way.
    pub(crate) fn expected(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        pairs.sort();
        pairs
    }
}
