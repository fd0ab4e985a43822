# mlverse/torch vignettes/getting-started/tensors.Rmd (commit 285f91b0, "torch Tensors"); changed: torch_manual_seed(1) added, N, D_in, H, D_out 64, 1000, 100, 10 -> 8, 10, 6, 2 (small synthetic data), last line `loss` added so the page has an output
library(torch)
torch_manual_seed(1)
if (cuda_is_available()) {
   device <- torch_device("cuda")
} else {
   device <- torch_device("cpu")
}
   
# N is batch size; D_in is input dimension;
# H is hidden dimension; D_out is output dimension.
N <- 8
D_in <- 10
H <- 6
D_out <- 2

# Create random input and output data
x <- torch_randn(N, D_in, device=device)
y <- torch_randn(N, D_out, device=device)

# Randomly initialize weights
w1 <- torch_randn(D_in, H, device=device)
w2 <- torch_randn(H, D_out, device=device)

learning_rate <- 1e-6
for (t in seq_len(500)) {
   # Forward pass: compute predicted y
   h <- x$mm(w1)
   h_relu <- h$clamp(min=0)
   y_pred <- h_relu$mm(w2)
   
   # Compute and print loss
   loss <- as.numeric((y_pred - y)$pow(2)$sum())
   if (t %% 100 == 0 || t == 1)
      cat("Step:", t, ":", loss, "\n")
   
   # Backprop to compute gradients of w1 and w2 with respect to loss
   grad_y_pred <- 2.0 * (y_pred - y)
   grad_w2 <- h_relu$t()$mm(grad_y_pred)
   grad_h_relu <- grad_y_pred$mm(w2$t())
   grad_h <- grad_h_relu$clone()
   grad_h[h < 0] <- 0
   grad_w1 <- x$t()$mm(grad_h)
   
   # Update weights using gradient descent
   w1 <- w1 - learning_rate * grad_w1
   w2 <- w2 - learning_rate * grad_w2
}
loss
