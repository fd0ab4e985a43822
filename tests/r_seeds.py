"""The R snippets of seeds 000-002, copied from the seed text as it stands.

Seed 002's code reached us flattened onto one line (its comments and statements run
together). `SEED002_NETWORK` puts back only the line breaks R needs: a newline before
each comment and each statement, at the anchors below and nowhere else; the test
checks that joining the lines with spaces gives the seed's line back, character for
character.
"""

# Seed 001, section 12.3, in document order (each block exactly as printed).
SEED001_CREATE = """library(torch)

x1 <- torch_tensor(2, requires_grad = TRUE)
x2 <- torch_tensor(2, requires_grad = TRUE)
"""
SEED001_NODES = """x3 <- x1$square()
x5 <- x3 * 0.2

x4 <- x2$square()
x6 <- x4 * 0.2

x7 <- x5 + x6 - 5
x7
"""
SEED001_REQUIRES_GRAD = "x7$requires_grad\n"
SEED001_BACKWARD = "x7$backward()\n"
SEED001_GRAD_X1 = "x1$grad\n"
SEED001_GRAD_X2 = "x2$grad\n"

# Section 12.4.
SEED001_ROSENBROCK = """a <- 1
b <- 5

rosenbrock <- function(x) {
  x1 <- x[1]
  x2 <- x[2]
  (a - x1)^2 + b * (x2 - x1^2)^2
}
"""
SEED001_NOT_YET_CORRECT = """# attention: this is not the correct procedure yet!

for (i in 1:num_iterations) {

  # call function, passing in current parameter value
  value <- rosenbrock(x)

  # compute gradient of value w.r.t. parameter
  value$backward()

  # manually update parameter, subtracting a fraction
  # of the gradient
  # this is not quite correct yet!
  x$sub_(lr * x$grad)
}
"""
SEED001_START = "x <- torch_tensor(c(-1, 1), requires_grad = TRUE)\n"
SEED001_NO_GRAD = """with_no_grad({
  x$sub_(lr * x$grad)
  x$grad$zero_()
})
"""
SEED001_LOOP = """num_iterations <- 1000

lr <- 0.01

x <- torch_tensor(c(-1, 1), requires_grad = TRUE)

for (i in 1:num_iterations) {
  if (i %% 100 == 0) cat("Iteration: ", i, "\\n")

  value <- rosenbrock(x)
  if (i %% 100 == 0) {
    cat("Value is: ", as.numeric(value), "\\n")
  }

  value$backward()
  if (i %% 100 == 0) {
    cat("Gradient is: ", as.matrix(x$grad), "\\n")
  }

  with_no_grad({
    x$sub_(lr * x$grad)
    x$grad$zero_()
  })
}
"""
SEED001_FINAL_X = "x\n"
# The lab's starter code (base R's random numbers, drawn by PyTorch's generator here).
SEED001_LAB = """set.seed(1)
b0 <- 1; b1 <- 1; n <- 200
x <- runif(n,0,2)
y <- b0 + b1*x + rnorm(n, sd=0.25)
"""

# The seed's printed output of the loop, as it stands.
SEED001_LOOP_OUTPUT = """## Iteration:  100 
## Value is:  0.3502924 
## Gradient is:  -0.667685 -0.5771312 
## Iteration:  200 
## Value is:  0.07398106 
## Gradient is:  -0.1603189 -0.2532476 
## Iteration:  300 
## Value is:  0.02483024 
## Gradient is:  -0.07679074 -0.1373911 
## Iteration:  400 
## Value is:  0.009619333 
## Gradient is:  -0.04347242 -0.08254051 
## Iteration:  500 
## Value is:  0.003990697 
## Gradient is:  -0.02652063 -0.05206227 
## Iteration:  600 
## Value is:  0.001719962 
## Gradient is:  -0.01683905 -0.03373682 
## Iteration:  700 
## Value is:  0.0007584976 
## Gradient is:  -0.01095017 -0.02221584 
## Iteration:  800 
## Value is:  0.0003393509 
## Gradient is:  -0.007221781 -0.01477957 
## Iteration:  900 
## Value is:  0.0001532408 
## Gradient is:  -0.004811743 -0.009894371 
## Iteration:  1000 
## Value is:  6.962555e-05 
## Gradient is:  -0.003222887 -0.006653666"""

# Seed 002, the flattened line as it stands (up to its printed output).
SEED002_FLAT = (
    '# We can implement our own custom autograd Functions by subclassing # autograd_functioon a'
    'nd implementing the forward and backward passes # which operate on Tensors. my_relu <- aut'
    'ograd_function( # In the forward pass we receive a Tensor containing the input and return '
    '# a Tensor containing the output. ctx is a context object that can be used # to stash info'
    'rmation for backward computation. You can cache arbitrary # objects for use in the backwar'
    'd pass using the ctx$save_for_backward method. forward = function(ctx, input) { ctx$save_f'
    'or_backward(input = input) input$clamp(min = 0) }, # In the backward pass we receive a Ten'
    'sor containing the gradient of the loss # with respect to the output, and we need to compu'
    'te the gradient of the loss # with respect to the input. backward = function(ctx, grad_out'
    'put) { v <- ctx$saved_variables grad_input <- grad_output$clone() grad_input[v$input < 0] '
    '<- 0 list(input = grad_input) } ) if (cuda_is_available()) { device <- torch_device("cuda"'
    ') } else { device <- torch_device("cpu") } # N is batch size; D_in is input dimension; # H'
    ' is hidden dimension; D_out is output dimension. N <- 64 D_in <- 1000 H <- 100 D_out <- 10'
    ' # Create random input and output data # Setting requires_grad=FALSE (the default) indicat'
    'es that we do not need to # compute gradients with respect to these Tensors during the bac'
    'kward pass. x <- torch_randn(N, D_in, device=device) y <- torch_randn(N, D_out, device=dev'
    'ice) # Randomly initialize weights # Setting requires_grad=TRUE indicates that we want to '
    'compute gradients with # respect to these Tensors during the backward pass. w1 <- torch_ra'
    'ndn(D_in, H, device=device, requires_grad = TRUE) w2 <- torch_randn(H, D_out, device=devic'
    'e, requires_grad = TRUE) learning_rate <- 1e-6 for (t in seq_len(500)) { # Forward pass: c'
    'ompute predicted y using operations on Tensors; these # are exactly the same operations we'
    ' used to compute the forward pass using # Tensors, but we do not need to keep references t'
    'o intermediate values since # we are not implementing the backward pass by hand. y_pred <-'
    ' my_relu(x$mm(w1))$mm(w2) # Compute and print loss using operations on Tensors. # Now loss'
    ' is a Tensor of shape (1,) loss <- (y_pred - y)$pow(2)$sum() if (t %% 100 == 0 || t == 1) '
    'cat("Step:", t, ":", as.numeric(loss), "\\n") # Use autograd to compute the backward pass. '
    'This call will compute the # gradient of loss with respect to all Tensors with requires_gr'
    'ad=True. # After this call w1$grad and w2$grad will be Tensors holding the gradient # of t'
    'he loss with respect to w1 and w2 respectively. loss$backward() # Manually update weights '
    'using gradient descent. Wrap in `with_no_grad` # because weights have requires_grad=TRUE, '
    "but we don't need to track this # in autograd. # You can also use optim_sgd to achieve thi"
    's. with_no_grad({ # operations suffixed with an `_` operates on in-place on the tensor. w1'
    '$sub_(learning_rate * w1$grad) w2$sub_(learning_rate * w2$grad) # Manually zero the gradie'
    'nts after updating weights w1$grad$zero_() w2$grad$zero_() }) }'
)
SEED002_OUTPUT = ("#> Step: 1 : 33210170 #> Step: 100 : 429.2728 #> Step: 200 : 2.536572 "
                  "#> Step: 300 : 0.02151564 #> Step: 400 : 0.0003944117 #> Step: 500 : 4.690059e-05")

# Where a line break goes back (before each anchor, replacing the one space there).
SEED002_BREAKS = (
    "# autograd_functioon", "# which operate", "my_relu <-", "# In the forward pass",
    "# a Tensor containing the output.", "# to stash", "# objects for use", "forward = function",
    "ctx$save_for_backward(input = input)", "input$clamp(min = 0)", "# In the backward pass",
    "# with respect to the output,", "# with respect to the input.", "backward = function",
    "v <- ctx", "grad_input <- grad_output", "grad_input[v$input", "list(input = grad_input)",
    "if (cuda_is_available", "# N is batch size", "# H is hidden", "N <- 64", "D_in <- 1000",
    "H <- 100", "D_out <- 10", "# Create random input", "# Setting requires_grad=FALSE",
    "# compute gradients", "x <- torch_randn", "y <- torch_randn", "# Randomly initialize",
    "# Setting requires_grad=TRUE", "# respect to these", "w1 <- torch_randn", "w2 <- torch_randn",
    "learning_rate <- 1e-6", "for (t in seq_len(500))", "# Forward pass:", "# are exactly",
    "# Tensors, but", "# we are not implementing", "y_pred <-", "# Compute and print loss",
    "# Now loss is", "loss <- (y_pred", "if (t %% 100", "# Use autograd", "# gradient of loss with",
    "# After this call", "# of the loss with respect to w1", "loss$backward()",
    "# Manually update weights", "# because weights", "# in autograd.", "# You can also use",
    "with_no_grad({", "# operations suffixed", "w1$sub_(", "w2$sub_(", "# Manually zero",
    "w1$grad$zero_()", "w2$grad$zero_()",
)


def with_line_breaks(flat: str, anchors) -> str:
    """Put a newline in place of the space before each anchor, in order."""
    at, parts = 0, []
    for anchor in anchors:
        found = flat.index(" " + anchor, at)
        parts.append(flat[at:found])
        at = found + 1
    parts.append(flat[at:])
    return "\n".join(parts)


SEED002_NETWORK = with_line_breaks(SEED002_FLAT, SEED002_BREAKS)
