# skeydan/Deep-Learning-and-Scientific-Computing-with-R-torch optimizers.qmd (DLSC, Keydana, ch. "Optimizers"); changed: torch_manual_seed(1) added; the chapter's two fragments (l, opt; then backward, zero_grad, step) joined in a loop over small synthetic x, y with a loss; `optimizer` read as the `opt` the chapter defined; zero_grad before backward, as the chapter's comment says
library(torch)
torch_manual_seed(1)
l <- nn_linear(10, 2)

opt <- optim_sgd(l$parameters, lr = 0.1)
x <- torch_randn(16, 10)
y <- torch_randn(16, 2)
for (t in 1:20) {
  loss <- nnf_mse_loss(l(x), y)
  # Still need to zero out gradients before the backward pass,
  # only this time, on the optimizer object
  opt$zero_grad()
  # compute gradient of loss w.r.t. all tensors with
  # requires_grad = TRUE
  # no change here
  loss$backward()

  # use the optimizer to update model parameters
  opt$step()
}
loss
