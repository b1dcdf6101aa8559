#include "transfer.h"

namespace trellis::ucx {

namespace {

ucp_request_param_t host_buffer_param() {
  ucp_request_param_t param{};
  // Every buffer of the backend is host memory: saying so spares UCX a memory-type lookup on
  // each message.
  param.op_attr_mask = UCP_OP_ATTR_FIELD_MEMORY_TYPE;
  param.memory_type = UCS_MEMORY_TYPE_HOST;
  return param;
}

}  // namespace

Transfer::~Transfer() {
  // Only reached with a request in flight when the world is torn down; UCX releases it then.
  if (request_ != nullptr) ucp_request_free(request_);
}

void Transfer::post_send(ucp_ep_h ep, const void* data, std::uint64_t tag) {
  ucp_request_param_t param = host_buffer_param();
  finish_post(ucp_tag_send_nbx(ep, data, bytes_, tag, &param));
  if (done() && status_ == UCS_OK) info_.length = bytes_;
}

void Transfer::post_recv(ucp_worker_h worker, void* data, std::uint64_t tag) {
  ucp_request_param_t param = host_buffer_param();
  // Always a request, even for a message that is already there: UCX 1.13 does not report the
  // length of a receive it completes at once (recv_info stays unset), and the length is how a
  // size mismatch between ranks is caught. The request costs a pointer bump from UCX's pool.
  param.op_attr_mask |= UCP_OP_ATTR_FLAG_NO_IMM_CMPL;
  finish_post(ucp_tag_recv_nbx(worker, data, bytes_, tag, ~std::uint64_t{0}, &param));
}

void Transfer::finish_post(ucs_status_ptr_t request) {
  if (request == nullptr) {
    status_ = UCS_OK;
  } else if (UCS_PTR_IS_ERR(request)) {
    status_ = UCS_PTR_STATUS(request);
  } else {
    request_ = request;
    status_ = UCS_INPROGRESS;
  }
}

bool Transfer::poll() {
  if (request_ == nullptr) return true;
  if (kind_ == Kind::recv) {
    status_ = ucp_tag_recv_request_test(request_, &info_);
  } else {
    status_ = ucp_request_check_status(request_);
  }
  if (status_ == UCS_INPROGRESS) return false;
  ucp_request_free(request_);
  request_ = nullptr;
  return true;
}

void Transfer::cancel(ucp_worker_h worker) {
  if (request_ != nullptr && kind_ == Kind::recv) ucp_request_cancel(worker, request_);
}

}  // namespace trellis::ucx
